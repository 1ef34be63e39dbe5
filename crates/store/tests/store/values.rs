//! Data values: written all or none with their history, summed up the tree through the
//! roll-ups, read per period by each element's aggregation, and recounted by `check`.

use ngoso_core::period::Period;
use ngoso_store::values::{self, Filter, Source, Write};
use ngoso_store::{Db, both_backends, check, units};

use crate::outreach::world;
use crate::refusal;

fn p(s: &str) -> Period {
    Period::parse(s).unwrap()
}

fn w(element_id: i64, unit_id: i64, period: &str, value: Option<i64>) -> Write {
    Write { element_id, unit_id, period: p(period), value, comment: None }
}

/// Element ids of the default set.
const HEALTH_CASHLESS: i64 = 5;
const HEALTH_TOTAL: i64 = 6;
const SCHOOLS_ONLINE: i64 = 8;

async fn values_sum_up_the_tree_by_aggregation(db: Db) {
    let wd = world(&db).await;
    let (c0, c1) = (wd.communes[0], wd.communes[1]);
    let elements = values::elements(&db).await.unwrap();
    assert_eq!(elements.len(), 17, "the default set ships");
    let done = values::write(
        &db,
        Some(wd.officer),
        Source::Api,
        vec![
            w(HEALTH_CASHLESS, c0, "202407", Some(1_000)),
            w(HEALTH_CASHLESS, c0, "202408", Some(2_000)),
            w(HEALTH_CASHLESS, c1, "202409", Some(500)),
            w(HEALTH_TOTAL, c0, "202407", Some(10_000)),
            w(SCHOOLS_ONLINE, c0, "202407", Some(3)),
            w(SCHOOLS_ONLINE, c0, "202409", Some(5)),
            w(SCHOOLS_ONLINE, c1, "202409", Some(2)),
        ],
    )
    .await
    .unwrap();
    assert_eq!((done.imported, done.updated, done.deleted, done.ignored), (7, 0, 0, 0));

    let f = values::figures(&db, wd.province, &p("2024Q3"), &elements).await.unwrap();
    assert_eq!(f[&HEALTH_CASHLESS].value, Some(3_500), "a flow sums its months and its communes");
    assert_eq!(f[&HEALTH_TOTAL].value, Some(10_000));
    assert_eq!(f[&SCHOOLS_ONLINE].value, Some(7), "a stock takes the latest month, summed over communes");
    assert_eq!(f[&SCHOOLS_ONLINE].reporting, 2);
    assert_eq!(f[&1].value, None, "nothing entered is no figure, not zero");
    let f = values::figures(&db, c0, &p("202408"), &elements).await.unwrap();
    assert_eq!(f[&HEALTH_CASHLESS].value, Some(2_000));
    assert_eq!(f[&SCHOOLS_ONLINE].value, None);
    let f = values::figures(&db, wd.province, &p("2024Q4"), &elements).await.unwrap();
    assert_eq!(f[&HEALTH_CASHLESS].value, None);

    // Changed, removed, and the same again: the history keeps who, what and how.
    let done = values::write(
        &db,
        Some(wd.officer),
        Source::Form,
        vec![
            w(HEALTH_CASHLESS, c0, "202407", Some(1_500)),
            w(HEALTH_CASHLESS, c0, "202408", None),
            w(HEALTH_TOTAL, c0, "202407", Some(10_000)),
            w(HEALTH_TOTAL, c1, "202407", None),
        ],
    )
    .await
    .unwrap();
    assert_eq!((done.imported, done.updated, done.deleted, done.ignored), (0, 1, 1, 2));
    let f = values::figures(&db, wd.province, &p("2024"), &elements).await.unwrap();
    assert_eq!(f[&HEALTH_CASHLESS].value, Some(2_000));
    let h = values::history(&db, c0, &p("202407"), Some(HEALTH_CASHLESS), 10).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!((h[0].before, h[0].after, h[0].source.as_str()), (Some(1_000), Some(1_500), "form"));
    assert_eq!(h[0].username.as_deref(), Some("can.bo"));
    assert_eq!((h[1].before, h[1].after, h[1].source.as_str()), (None, Some(1_000), "api"));
    let h = values::history(&db, c0, &p("202408"), None, 10).await.unwrap();
    assert_eq!((h[0].before, h[0].after), (Some(2_000), None));
    // The history is append-only: the database refuses to change or remove it.
    let changed = ngoso_store::on_write!(&db, c => sqlx::query("UPDATE data_value_history SET after = 1")
        .execute(c).await.map(|r| r.rows_affected()));
    assert!(changed.unwrap_err().to_string().contains("append-only"));
    let removed = ngoso_store::on_write!(&db, c => sqlx::query("DELETE FROM data_value_history")
        .execute(c).await.map(|r| r.rows_affected()));
    assert!(removed.unwrap_err().to_string().contains("append-only"));

    // Stored values, as DHIS2 lists them.
    let prov = units::get(&db, wd.province).await.unwrap();
    let all =
        values::stored(&db, &Filter { units: vec![prov.unit_path()], children: true, ..Default::default() }, 1000)
            .await
            .unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(all[0].element_code, "HEALTH_FEES_CASHLESS");
    assert_eq!(all[0].stored_by.as_deref(), Some("can.bo"));
    let own = values::stored(&db, &Filter { units: vec![prov.unit_path()], ..Default::default() }, 1000).await.unwrap();
    assert!(own.is_empty(), "nothing entered on the province itself");
    let q = values::stored(
        &db,
        &Filter { units: vec![prov.unit_path()], children: true, periods: vec![p("202409")], ..Default::default() },
        1000,
    )
    .await
    .unwrap();
    assert_eq!(q.len(), 3);

    assert_eq!(check::run(&db).await.unwrap(), Vec::<String>::new());
}

/// A write refused by the database (a unit that does not exist) leaves nothing: no value,
/// no history, no figure.
async fn a_refused_write_changes_nothing(db: Db) {
    let wd = world(&db).await;
    let r = values::write(
        &db,
        Some(wd.officer),
        Source::Csv,
        vec![w(HEALTH_CASHLESS, wd.communes[0], "202407", Some(1)), w(HEALTH_CASHLESS, 999_999, "202407", Some(2))],
    )
    .await;
    assert!(r.is_err());
    let elements = values::elements(&db).await.unwrap();
    let f = values::figures(&db, wd.province, &p("2024"), &elements).await.unwrap();
    assert_eq!(f[&HEALTH_CASHLESS].value, None);
    assert!(values::history(&db, wd.communes[0], &p("202407"), None, 10).await.unwrap().is_empty());
    assert_eq!(check::run(&db).await.unwrap(), Vec::<String>::new());
}

/// A unit moved in the tree carries its values' figures to its new ancestors.
async fn values_follow_a_moved_unit(db: Db) {
    let wd = world(&db).await;
    let elements = values::elements(&db).await.unwrap();
    values::write(&db, None, Source::Demo, vec![w(HEALTH_TOTAL, wd.hamlets[0], "202407", Some(70))]).await.unwrap();
    units::move_to(&db, wd.hamlets[0], Some(wd.communes[1])).await.unwrap();
    let f = values::figures(&db, wd.communes[1], &p("202407"), &elements).await.unwrap();
    assert_eq!(f[&HEALTH_TOTAL].value, Some(70));
    let f = values::figures(&db, wd.communes[0], &p("202407"), &elements).await.unwrap();
    assert_eq!(f[&HEALTH_TOTAL].value, None);
    assert_eq!(check::run(&db).await.unwrap(), Vec::<String>::new());
}

/// Two communes whose shares differ: the province's share is Σ numerators ÷ Σ denominators
/// of the communes, not the mean of their shares; targets are kept per unit and period.
async fn indicators_are_summed_from_parts(db: Db) {
    use ngoso_store::indicators::{self, NewIndicator, TargetWrite};
    let wd = world(&db).await;
    let (c0, c1) = (wd.communes[0], wd.communes[1]);
    values::write(
        &db,
        None,
        Source::Demo,
        vec![
            w(HEALTH_CASHLESS, c0, "202407", Some(10)),
            w(HEALTH_TOTAL, c0, "202407", Some(100)),
            w(HEALTH_CASHLESS, c1, "202408", Some(900)),
            w(HEALTH_TOTAL, c1, "202408", Some(1_000)),
        ],
    )
    .await
    .unwrap();
    let all = indicators::list(&db).await.unwrap();
    let share = all.iter().find(|i| i.code == "HEALTH_FEES_CASHLESS_SHARE").unwrap().clone();
    let mut measured = Vec::new();
    for unit in [wd.province, c0, c1] {
        let path = units::get(&db, unit).await.unwrap().unit_path();
        measured.push(indicators::measure(&db, unit, &path, &p("2024Q3"), &all).await.unwrap());
    }
    let (prov, a, b) = (&measured[0], &measured[1], &measured[2]);
    assert_eq!(a[&share.id].value, Some(10.0));
    assert_eq!(b[&share.id].value, Some(90.0));
    assert_eq!((prov[&share.id].numerator, prov[&share.id].denominator), (Some(910), Some(1_100)));
    let v = prov[&share.id].value.unwrap();
    assert!((v - 910.0 * 100.0 / 1_100.0).abs() < 1e-9 && (v - 50.0).abs() > 30.0, "{v}");
    let visited = all.iter().find(|i| i.code == "HOUSEHOLDS_VISITED_SHARE").unwrap();
    assert_eq!(prov[&visited.id].value, None, "no households: no share");
    let guided = all.iter().find(|i| i.code == "HOUSEHOLDS_GUIDED_APP").unwrap();
    assert_eq!(prov[&guided.id].value, Some(0.0));

    indicators::set_targets(
        &db,
        Some(wd.officer),
        &[TargetWrite { indicator_id: share.id, unit_id: wd.province, period: p("2024"), target: Some(8_000) }],
    )
    .await
    .unwrap();
    let t = indicators::targets(&db, wd.province, &p("2024")).await.unwrap();
    assert_eq!(t[&share.id], 8_000);
    assert!(indicators::targets(&db, wd.province, &p("2024Q3")).await.unwrap().is_empty());

    // A new indicator names only what exists.
    let new = NewIndicator {
        code: "HEALTH_TOTAL_X".into(),
        name_vi: "Tổng".into(),
        name_en: "Total".into(),
        kind: "money".into(),
        numerator: "value:HEALTH_FEES_TOTAL + value:HEALTH_FEES_CASHLESS".into(),
        denominator: None,
        section: "cashless".into(),
    };
    assert!(indicators::create(&db, &new).await.is_ok());
    assert_eq!(refusal(indicators::create(&db, &new).await), "indicator-code-exists");
    let bad = NewIndicator { code: "Y1".into(), numerator: "value:NOPE".into(), ..new.clone() };
    assert_eq!(refusal(indicators::create(&db, &bad).await), "indicator-term-unknown");
    let bad = NewIndicator { code: "Y2".into(), kind: "percent".into(), ..new.clone() };
    assert_eq!(refusal(indicators::create(&db, &bad).await), "required");
    let bad = NewIndicator { code: "Y4".into(), section: "weather".into(), ..new.clone() };
    assert_eq!(refusal(indicators::create(&db, &bad).await), "indicator-section-invalid");
    let bad = NewIndicator { code: "Y3".into(), numerator: "reached:vneid_l2:nope".into(), ..new };
    assert_eq!(refusal(indicators::create(&db, &bad).await), "indicator-term-unknown");
}

/// The raw export comes in chunks that together hold every visit once, in order, with
/// barrier codes and Vietnam times, and with no personal data unless asked with a proof.
async fn the_export_pages_through_every_visit(db: Db) {
    use ngoso_core::outreach::{Barrier, Barriers};
    use ngoso_store::export::{self, Dataset, ExportFilter, Personal};
    use ngoso_store::households;
    use ngoso_store::visits;
    let wd = world(&db).await;
    let mut h = crate::outreach::household(wd.hamlets[0], "H,1", Barriers::default());
    h.head_name = Some("Bà \"Tư\"".into());
    let hid = households::create(&db, &h, None).await.unwrap();
    let anyone = |_: i64, _: &ngoso_core::unit::UnitPath| true;
    let mut batch = Vec::new();
    for i in 0..5u64 {
        let mut v = crate::outreach::visit(i + 1, hid, wd.teams[0].0, crate::outreach::T0 + i as i64 * 3600, vec![]);
        v.barriers = Barriers::of(&[Barrier::NoSmartphone, Barrier::Language]);
        v.note = "hẹn \"chiều\", mai".into();
        batch.push(v);
    }
    visits::ingest(&db, None, &batch, &anyone).await.unwrap();
    let prov = units::get(&db, wd.province).await.unwrap();
    let mut f = ExportFilter { within: prov.unit_path(), from: 0, to: i64::MAX / 2, after: 0, limit: 2 };
    let mut all = String::new();
    let mut chunks = 0;
    loop {
        let c = export::chunk(&db, Dataset::Visits, &f).await.unwrap();
        chunks += 1;
        all.push_str(&c.csv);
        match c.last {
            Some(last) if c.window == f.limit => f.after = last,
            _ => break,
        }
    }
    assert_eq!(chunks, 3);
    // Read as the server streams it (PostgreSQL: one COPY), the same lines.
    let mut e = export::open(&db, Dataset::Visits, &ExportFilter { after: 0, ..f.clone() }, None).await.unwrap();
    let mut streamed = String::new();
    while let Some(lines) = e.next().await.unwrap() {
        streamed.push_str(&lines);
    }
    assert_eq!(streamed, all);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 5, "{all}");
    assert!(all.ends_with("\r\n"));
    assert!(lines[0].ends_with(",2024-10-15T07:00:00+07:00,202410,met,no_smartphone;language"), "{}", lines[0]);
    assert!(!all.contains("H,1") && !all.contains("hẹn"));
    let access = ngoso_core::auth::area::<ngoso_core::auth::may::ViewPersonalData>(
        &ngoso_core::auth::Actor {
            user_id: wd.officer,
            role: ngoso_core::auth::Role::Officer,
            scope: ngoso_core::auth::Scope::Subtree(prov.unit_path()),
            agency_id: None,
        },
        Some(&prov.unit_path()),
    )
    .unwrap();
    let f = ExportFilter { after: 0, limit: 10, ..f };
    let c = export::chunk_personal(&db, Dataset::Visits, &Personal::People(access), &f).await.unwrap();
    assert_eq!(c.lines, 5);
    let first = c.csv.lines().next().unwrap();
    assert!(first.contains(",\"H,1\",") && first.ends_with(",\"hẹn \"\"chiều\"\", mai\""), "{first}");
}

/// The export of statuses: each household's and resident's current status per service, with
/// sex and age band; the household's code, the resident and the year of birth only with the
/// proof of access to the area's people.
async fn the_export_of_statuses(db: Db) {
    use ngoso_core::household::NewResident;
    use ngoso_core::outreach::Barriers;
    use ngoso_store::export::{self, Dataset, ExportFilter, Personal};
    use ngoso_store::{catalog, households, visits};
    let wd = world(&db).await;
    let cat = catalog::load(&db).await.unwrap();
    let hid = households::create(&db, &crate::outreach::household(wd.hamlets[0], "H-9", Barriers::default()), None)
        .await
        .unwrap();
    let elder = NewResident {
        full_name: Some("Trần Thị Bé".into()),
        birth_year: Some(1950),
        sex: Some("f"),
        youth_union: false,
        groups: 0,
        cccd: None,
        phone: None,
        consent: None,
    };
    let rid = households::add_resident(&db, hid, &elder, None).await.unwrap();
    let other = households::create(&db, &crate::outreach::household(wd.hamlets[3], "H-10", Barriers::default()), None)
        .await
        .unwrap();
    let anyone = |_: i64, _: &ngoso_core::unit::UnitPath| true;
    let o = |svc: &str, st: &str, r: i64| crate::outreach::outcome(&cat, svc, st, r);
    let batch = vec![
        crate::outreach::visit(
            1,
            hid,
            wd.teams[0].0,
            crate::outreach::T0,
            vec![o("citizen_app", "installed", 0), o("vneid_l2", "activated", rid)],
        ),
        crate::outreach::visit(2, other, wd.teams[1].0, crate::outreach::T0, vec![o("citizen_app", "installed", 0)]),
    ];
    visits::ingest(&db, None, &batch, &anyone).await.unwrap();
    let commune = units::get(&db, wd.communes[0]).await.unwrap();
    // Statuses are dated by when the server stored them.
    let now = ngoso_store::now();
    let f = ExportFilter { within: commune.unit_path(), from: now - 600, to: now + 600, after: 0, limit: 5 };
    let c = export::chunk(&db, Dataset::Statuses, &f).await.unwrap();
    let code = units::get(&db, wd.hamlets[0]).await.unwrap().code;
    let stamp = |line: &str| line.rsplit_once(',').map(|(a, t)| (a.to_owned(), t.len())).unwrap();
    let lines: Vec<&str> = c.csv.lines().collect();
    assert_eq!(lines.len(), 2, "{}", c.csv);
    assert_eq!(stamp(lines[0]), (format!("{code},household,\"citizen_app\",\"installed\",1,,"), 25));
    assert_eq!(stamp(lines[1]), (format!("{code},person,\"vneid_l2\",\"activated\",2,f,60+"), 25));
    assert!(lines[1].ends_with("+07:00"));
    assert_eq!(Dataset::Statuses.header(false), "unit_code,subject,service,status,rank,sex,age_band,updated_at\r\n");
    // Another day range: none.
    let c =
        export::chunk(&db, Dataset::Statuses, &ExportFilter { from: 0, to: now - 3600, ..f.clone() }).await.unwrap();
    assert_eq!((c.lines, c.window), (0, 2));
    let actor = ngoso_core::auth::Actor {
        user_id: wd.officer,
        role: ngoso_core::auth::Role::Officer,
        scope: ngoso_core::auth::Scope::Subtree(commune.unit_path()),
        agency_id: None,
    };
    let access = ngoso_core::auth::area::<ngoso_core::auth::may::ViewPersonalData>(&actor, None).unwrap();
    let c = export::chunk_personal(&db, Dataset::Statuses, &Personal::People(access), &f).await.unwrap();
    assert_eq!(
        stamp(c.csv.lines().nth(1).unwrap()).0,
        format!("{code},\"H-9\",{rid},person,\"vneid_l2\",\"activated\",2,f,1950,60+")
    );
}

both_backends!(
    the_export_of_statuses,
    the_export_pages_through_every_visit,
    values_sum_up_the_tree_by_aggregation,
    a_refused_write_changes_nothing,
    values_follow_a_moved_unit,
    indicators_are_summed_from_parts
);
