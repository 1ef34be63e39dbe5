//! A restructuring of the tree on both backends: a merge, a split by hamlet, a split left to
//! officers and a unit renamed but not merged, with figures before and after the day, as
//! reported and on today's tree, asserted exactly; `ngoso check` clean after each step.

use chrono::NaiveDate;
use ngoso_core::outreach::Barriers;
use ngoso_core::period::Period;
use ngoso_core::unit::{UnitCode, UnitKind, UnitName, Validity};
use ngoso_store::restructure::{self, MappingRow, Outcome, Summary};
use ngoso_store::units::{self, NewUnit};
use ngoso_store::values::{self, Source, Write};
use ngoso_store::{Db, both_backends, check, households, rollups, teams, visits};

use crate::outreach::{household, visit};

fn nu(code: &str, name: &str, kind: &str, parent: Option<i64>) -> NewUnit {
    NewUnit {
        code: UnitCode::parse(code).unwrap(),
        name: UnitName::parse(name).unwrap(),
        kind: UnitKind::parse(kind).unwrap(),
        parent_id: parent,
        validity: Validity::default(),
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
}

const MAPPING: &str = "old_code,new_code,new_name,new_kind,new_parent_code
,80,Tây Ninh,tỉnh,VN
C1,N1,Xã Một,xã,80
C2,N1,Xã Một,xã,80
C3,N2,Xã Hai,xã,80
C3,N3,Xã Ba,xã,80
C4,N4,Xã Bốn Mới,xã,80
H31,N2
H32,N3
";

fn rows(text: &str) -> Vec<MappingRow> {
    restructure::read_mapping(text.as_bytes()).unwrap()
}

async fn figure(db: &Db, unit: i64, f: &str, period: &str) -> i64 {
    rollups::of_unit(db, unit).await.unwrap().get(&(f.to_owned(), period.to_owned())).copied().unwrap_or(0)
}

/// A summary without ids (PostgreSQL's sequences do not roll back with a dry run).
fn strip(s: &Summary) -> serde_json::Value {
    fn go(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("id");
                m.values_mut().for_each(go);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(go),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(s).unwrap();
    go(&mut v);
    v
}

fn anyone(_: i64, _: &ngoso_core::unit::UnitPath) -> bool {
    true
}

const OCT_2024: i64 = 1_728_950_400; // 2024-10-15
const AUG_2025: i64 = 1_755_216_000; // 2025-08-15

async fn merge_split_and_rename(db: Db) {
    // The old tree: the country, Long An (80) with two districts, four communes, hamlets.
    let vn = units::create(&db, &nu("VN", "Việt Nam", "quốc gia", None)).await.unwrap();
    let la = units::create(&db, &nu("80", "Long An", "tỉnh", Some(vn.id))).await.unwrap();
    let d1 = units::create(&db, &nu("D1", "Huyện Một", "huyện", Some(la.id))).await.unwrap();
    let d2 = units::create(&db, &nu("D2", "Huyện Hai", "huyện", Some(la.id))).await.unwrap();
    let mut unit = std::collections::HashMap::new();
    for (c, d, hamlets) in [
        ("C1", d1.id, &["H11", "H12"][..]),
        ("C2", d1.id, &["H21"]),
        ("C3", d2.id, &["H31", "H32", "H33"]),
        ("C4", d2.id, &["H41"]),
    ] {
        let cu = units::create(&db, &nu(c, &format!("Xã {c}"), "xã", Some(d))).await.unwrap();
        unit.insert(c, cu.id);
        for h in hamlets {
            let hu = units::create(&db, &nu(h, &format!("Ấp {h}"), "ấp", Some(cu.id))).await.unwrap();
            unit.insert(*h, hu.id);
        }
    }
    let team1 = teams::create(&db, unit["C1"], "Tổ C1").await.unwrap();
    let team3 = teams::create(&db, unit["C3"], "Tổ C3").await.unwrap();
    // The province's own team visits everywhere.
    let teamp = teams::create(&db, la.id, "Tổ tỉnh").await.unwrap();
    // One household per hamlet, each visited in October 2024.
    let mut hh = std::collections::HashMap::new();
    for (i, h) in ["H11", "H12", "H21", "H31", "H32", "H33", "H41"].iter().enumerate() {
        let id =
            households::create(&db, &household(unit[h], &format!("HH{h}"), Barriers::default()), None).await.unwrap();
        hh.insert(*h, id);
        visits::ingest(&db, None, &[visit(i as u64 + 1, id, teamp, OCT_2024, vec![])], &anyone).await.unwrap();
    }
    // A household on the split commune itself, in no hamlet.
    let direct = households::create(&db, &household(unit["C3"], "HHC3", Barriers::default()), None).await.unwrap();
    visits::ingest(&db, None, &[visit(50, direct, teamp, OCT_2024, vec![])], &anyone).await.unwrap();
    // A visit after the day, recorded on the old tree (the restructuring is applied late).
    visits::ingest(&db, None, &[visit(100, hh["H11"], teamp, AUG_2025, vec![])], &anyone).await.unwrap();
    // Figures entered as aggregates: on a commune that merges, and on one that splits.
    let p2024 = Period::parse("2024").unwrap();
    let w = |unit_id, value| Write {
        element_id: 5,
        unit_id,
        period: Period::parse("202410").unwrap(),
        value: Some(value),
        comment: None,
    };
    values::write(&db, None, Source::Api, vec![w(unit["C1"], 700), w(unit["C3"], 300)]).await.unwrap();
    assert!(check::run(&db).await.unwrap().is_empty());

    // A dry run says what would happen and changes nothing.
    let before = rollups::all(&db).await.unwrap();
    let dry = match restructure::restructure(&db, &rows(MAPPING), day(), true, None).await.unwrap() {
        Outcome::Done(s) => s,
        other => panic!("the mapping is good: {other:?}"),
    };
    assert_eq!(rollups::all(&db).await.unwrap(), before, "a dry run changes no figure");
    assert!(units::by_code_on(&db, "N1", day()).await.is_err(), "a dry run opens nothing");

    let Outcome::Done(s) = restructure::restructure(&db, &rows(MAPPING), day(), false, None).await.unwrap() else {
        panic!("the mapping is good")
    };
    assert_eq!(strip(&s), strip(&dry), "the dry run said what the run did");
    let codes = |v: &[restructure::RestructuredUnit]| {
        let mut c: Vec<String> = v.iter().map(|u| u.code.clone()).collect();
        c.sort();
        c
    };
    assert_eq!(codes(&s.opened), ["80", "N1", "N2", "N3", "N4"]);
    assert_eq!(
        codes(&s.closed),
        ["80", "C1", "C2", "C3", "C4", "D1", "D2", "H11", "H12", "H21", "H31", "H32", "H33", "H41"]
    );
    assert_eq!(s.remade, 6, "H11, H12, H21 under N1; H41 under N4; H31 under N2; H32 under N3");
    assert_eq!(s.households_moved, 6);
    assert_eq!(s.to_place.len(), 2);
    assert_eq!((s.to_place[0].unit.code.as_str(), s.to_place[0].households), ("C3", 1));
    assert_eq!((s.to_place[1].unit.code.as_str(), s.to_place[1].households), ("H33", 1));
    assert_eq!(codes(&s.to_place[1].candidates), ["N2", "N3"]);
    assert_eq!((s.teams_moved, s.accounts_moved), (2, 0), "C1's team to N1, the province's to Tây Ninh");
    assert_eq!(s.to_review.len(), 1, "the team of the split commune is listed");
    assert_eq!(s.to_review[0].id, team3);

    // The tree on each side of the day; the code 80 names Long An before and Tây Ninh after.
    let eve = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let la_now = units::get(&db, la.id).await.unwrap();
    assert_eq!(la_now.valid_to, Some(day()));
    let tn = units::by_code_on(&db, "80", day()).await.unwrap();
    assert_eq!(tn.name, "Tây Ninh");
    assert_eq!(units::by_code_on(&db, "80", eve).await.unwrap().id, la.id);
    assert_eq!(units::by_code(&db, "80").await.unwrap().id, tn.id, "today's unit of a reused code");
    let names = |v: Vec<units::UnitListItem>| v.into_iter().map(|u| u.code).collect::<Vec<_>>();
    assert_eq!(names(units::children_on(&db, Some(vn.id), eve).await.unwrap()), ["80"]);
    assert_eq!(units::children_on(&db, Some(vn.id), day()).await.unwrap()[0].id, tn.id);
    assert_eq!(names(units::children_on(&db, Some(tn.id), day()).await.unwrap()), ["N3", "N4", "N2", "N1"]);
    let succ = |id| {
        let db = db.clone();
        async move { units::successors(&db, id).await.unwrap().into_iter().map(|u| u.code).collect::<Vec<_>>() }
    };
    assert_eq!(succ(la.id).await, ["80"]);
    assert_eq!(succ(d1.id).await, ["N1"]);
    assert_eq!(succ(unit["C3"]).await, ["N3", "N2"]);
    let n1 = units::by_code_on(&db, "N1", day()).await.unwrap();
    let (n2, n3, n4) = (
        units::by_code_on(&db, "N2", day()).await.unwrap(),
        units::by_code_on(&db, "N3", day()).await.unwrap(),
        units::by_code_on(&db, "N4", day()).await.unwrap(),
    );
    assert_eq!(teams::get(&db, team1).await.unwrap().unit_id, n1.id, "a merged commune's team follows it");
    // Feedback filed against a closed unit is handled by its successor's staff; a split
    // unit's by the staff of the unit above its successors.
    let handling = |id| {
        let db = db.clone();
        async move {
            let own = units::get(&db, id).await.unwrap().unit_path();
            restructure::handling_path(&db, id, own).await.unwrap().map(|p| p.as_str().to_owned())
        }
    };
    assert_eq!(handling(unit["C1"]).await, Some(n1.path.clone()));
    assert_eq!(handling(unit["C3"]).await, Some(tn.path.clone()));
    assert_eq!(handling(n2.id).await, Some(n2.path.clone()));

    // As reported: the old units keep the visits of their time.
    assert_eq!(figure(&db, la.id, "visits", "202410").await, 8);
    assert_eq!(figure(&db, d2.id, "visits", "202410").await, 5);
    assert_eq!(figure(&db, unit["C3"], "visits", "202410").await, 4);
    assert_eq!(figure(&db, unit["C4"], "visits", "202410").await, 1);
    // On today's tree: each new commune's past is its households' past.
    assert_eq!(figure(&db, tn.id, "visits", "202410").await, 6, "all but the households waiting");
    assert_eq!(figure(&db, n1.id, "visits", "202410").await, 3);
    assert_eq!(figure(&db, n2.id, "visits", "202410").await, 1);
    assert_eq!(figure(&db, n3.id, "visits", "202410").await, 1);
    assert_eq!(figure(&db, n4.id, "visits", "202410").await, 1, "renamed, not merged: the same past");
    assert_eq!(figure(&db, vn.id, "visits", "202410").await, 8, "the country counts each visit once");
    // A visit after the day belongs to the new tree only.
    assert_eq!(figure(&db, n1.id, "visits", "202508").await, 1);
    assert_eq!(figure(&db, unit["C1"], "visits", "202508").await, 0);
    assert_eq!(figure(&db, la.id, "visits", "202508").await, 0);
    assert_eq!(figure(&db, vn.id, "visits", "202508").await, 1);
    // Today's state lives on the new tree, but for the household still to place.
    assert_eq!(figure(&db, tn.id, "households", "").await, 6);
    assert_eq!(figure(&db, la.id, "households", "").await, 2);
    assert_eq!(figure(&db, vn.id, "households", "").await, 8);
    // Values entered on a merged commune carry to its successor; a split one's do not.
    let elements = values::elements(&db).await.unwrap();
    let v = |unit| {
        let (db, elements, p) = (db.clone(), elements.clone(), p2024);
        async move { values::figures(&db, unit, &p, &elements).await.unwrap()[&5].value }
    };
    assert_eq!(v(n1.id).await, Some(700));
    assert_eq!(v(n2.id).await, None);
    assert_eq!(v(tn.id).await, Some(700));
    assert_eq!(v(la.id).await, Some(1_000), "as reported");
    assert_eq!(v(vn.id).await, Some(1_000));
    assert!(restructure::entries_comparable(&db, n1.id).await.unwrap());
    assert!(!restructure::entries_comparable(&db, n2.id).await.unwrap(), "a predecessor split with values");
    assert_eq!(check::run(&db).await.unwrap(), Vec::<String>::new());

    // Running it again changes nothing.
    let after = rollups::all(&db).await.unwrap();
    let Outcome::Done(again) = restructure::restructure(&db, &rows(MAPPING), day(), false, None).await.unwrap() else {
        panic!("applied already")
    };
    assert!(again.already_applied);
    assert_eq!(rollups::all(&db).await.unwrap(), after);

    // An officer places the hamlet left waiting.
    let placed: Summary = restructure::place(&db, unit["H33"], n3.id, None).await.unwrap();
    assert_eq!((placed.households_moved, placed.remade), (1, 1));
    assert_ne!(ngoso_store::testing::unaudited::household(&db, hh["H33"]).await.unwrap().unit_id, unit["H33"]);
    assert_eq!(figure(&db, n3.id, "visits", "202410").await, 2);
    assert_eq!(figure(&db, tn.id, "households", "").await, 7);
    assert_eq!(figure(&db, la.id, "households", "").await, 1);
    assert_eq!(figure(&db, unit["C3"], "visits", "202410").await, 4, "as reported, still");
    assert_eq!(check::run(&db).await.unwrap(), Vec::<String>::new());
    // And the household on the split commune itself, to one of its successors.
    let placed = restructure::place(&db, unit["C3"], n2.id, None).await.unwrap();
    assert_eq!((placed.households_moved, placed.remade), (1, 0));
    assert_eq!(figure(&db, n2.id, "visits", "202410").await, 2);
    assert_eq!(figure(&db, n2.id, "households", "").await, 2);
    assert_eq!(figure(&db, la.id, "households", "").await, 0);
    assert_eq!(figure(&db, la.id, "visits", "202410").await, 8, "as reported, still");
    assert!(restructure::to_place(&db, None).await.unwrap().is_empty());
    assert!(restructure::place(&db, unit["C3"], n3.id, None).await.is_err(), "nothing left to place");
    assert_eq!(check::run(&db).await.unwrap(), Vec::<String>::new());
    // It cannot be placed twice, nor outside the successors.
    assert!(restructure::place(&db, unit["H33"], n3.id, None).await.is_err());
}

both_backends!(merge_split_and_rename);

async fn bad_mappings_are_refused_whole(db: Db) {
    let vn = units::create(&db, &nu("VN", "Việt Nam", "quốc gia", None)).await.unwrap();
    let a = units::create(&db, &nu("A", "Xã A", "xã", Some(vn.id))).await.unwrap();
    units::create(&db, &nu("B", "Xã B", "xã", Some(vn.id))).await.unwrap();
    units::create(&db, &nu("C", "Xã C", "xã", Some(vn.id))).await.unwrap();
    let refused = |o: Outcome| match o {
        Outcome::Refused(e) => e.into_iter().map(|e| (e.line, e.key)).collect::<Vec<_>>(),
        other => panic!("accepted: {other:?}"),
    };
    let before = units::count(&db).await.unwrap();
    // An unknown code, with its row number; the good rows are not applied either.
    let m = "old_code,new_code,new_name,new_kind,new_parent_code\nA,X,Xã X,xã,VN\nZZ,X,Xã X,xã,VN\n";
    let e = refused(restructure::restructure(&db, &rows(m), day(), false, None).await.unwrap());
    assert_eq!(e, [(3, "restructure-old-unknown")]);
    // A cycle: B closes and is also a successor.
    let m = "old_code,new_code\nA,B\nB,C\n";
    let e = refused(restructure::restructure(&db, &rows(m), day(), false, None).await.unwrap());
    assert_eq!(e, [(2, "restructure-cycle")]);
    // Not the first day of a month.
    let m = "old_code,new_code\nA,C\n";
    let mid = NaiveDate::from_ymd_opt(2025, 7, 15).unwrap();
    let e = refused(restructure::restructure(&db, &rows(m), mid, false, None).await.unwrap());
    assert_eq!(e, [(2, "restructure-day-not-first")]);
    assert_eq!(units::count(&db).await.unwrap(), before, "nothing changed");
    assert_eq!(units::get(&db, a.id).await.unwrap().valid_to, None);
    // A date before an existing restructuring of the same units.
    let Outcome::Done(_) = restructure::restructure(&db, &rows(m), day(), false, None).await.unwrap() else {
        panic!("good")
    };
    let m2 = "old_code,new_code,new_name,new_kind,new_parent_code\nA,Y,Xã Y,xã,VN\n";
    let jan = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let e = refused(restructure::restructure(&db, &rows(m2), jan, false, None).await.unwrap());
    assert_eq!(e, [(2, "restructure-old-closes-later")]);
    // A file without the columns.
    assert!(restructure::read_mapping(b"from,to\nA,B\n").is_err());
}

both_backends!(bad_mappings_are_refused_whole);

/// A split with a share per successor: what was entered as aggregates on the split unit is
/// divided among its successors (the parts add up to the whole), and counted again by
/// `ngoso check`; without shares it stays not comparable.
async fn shares_divide_a_split_units_values(db: Db) {
    let vn = units::create(&db, &nu("VN", "Việt Nam", "quốc gia", None)).await.unwrap();
    let a = units::create(&db, &nu("A", "Xã A", "xã", Some(vn.id))).await.unwrap();
    let w = |unit_id, value| Write {
        element_id: 5,
        unit_id,
        period: Period::parse("202410").unwrap(),
        value: Some(value),
        comment: None,
    };
    values::write(&db, None, Source::Api, vec![w(a.id, 1_001)]).await.unwrap();
    let bad = "old_code,new_code,new_name,new_kind,new_parent_code,share\nA,X,Xã X,xã,VN,50\nA,Y,Xã Y,xã,VN,40\n";
    match restructure::restructure(&db, &rows(bad), day(), false, None).await.unwrap() {
        Outcome::Refused(e) => assert_eq!((e[0].line, e[0].key), (2, "restructure-shares-sum")),
        other => panic!("accepted {other:?}"),
    }
    assert!(restructure::read_mapping(b"old_code,new_code,share\nA,X,abc\n").is_err());
    let good = "old_code,new_code,new_name,new_kind,new_parent_code,share\nA,X,Xã X,xã,VN,50\nA,Y,Xã Y,xã,VN,50%\n";
    let Outcome::Done(_) = restructure::restructure(&db, &rows(good), day(), false, None).await.unwrap() else {
        panic!("good")
    };
    let (x, y) = (units::by_code(&db, "X").await.unwrap(), units::by_code(&db, "Y").await.unwrap());
    let elements = values::elements(&db).await.unwrap();
    let p = Period::parse("2024").unwrap();
    let v = |unit| {
        let (db, elements) = (db.clone(), elements.clone());
        async move { values::figures(&db, unit, &p, &elements).await.unwrap()[&5].value }
    };
    let (vx, vy) = (v(x.id).await.unwrap(), v(y.id).await.unwrap());
    assert_eq!((vx + vy, vx.max(vy), vx.min(vy)), (1_001, 501, 500));
    assert_eq!(v(vn.id).await, Some(1_001), "the country counts it once");
    assert_eq!(v(a.id).await, Some(1_001), "as reported");
    assert!(restructure::entries_comparable(&db, x.id).await.unwrap());
    assert_eq!(check::run(&db).await.unwrap(), Vec::<String>::new());
}

both_backends!(shares_divide_a_split_units_values);
