//! Citizen feedback in the store, on both backends: routing, tracking codes, every state
//! transition allowed and refused with its history rows, deadlines, the citizen's key, the
//! inbox filters and the outbox rows written with each change.

use chrono::NaiveDate;
use ngoso_core::calendar::{Calendar, DayKind, DayOff};
use ngoso_core::feedback::{Channel, Move, Rating, State, TrackingCode};
use ngoso_core::unit::{UnitCode, UnitKind, UnitName, Validity};
use ngoso_store::feedback::{self, InboxFilter, MoveInput, NewItem};
use ngoso_store::feedback_setup::{self as setup, NewCategory};
use ngoso_store::testing::unaudited;
use ngoso_store::units::{self, NewUnit, Unit};
use ngoso_store::users::{self, NewUser};
use ngoso_store::{Db, both_backends, on_db};

fn nu(code: &str, kind: &str, parent: Option<i64>) -> NewUnit {
    NewUnit {
        code: UnitCode::parse(code).unwrap(),
        name: UnitName::parse(&format!("Đơn vị {code}")).unwrap(),
        kind: UnitKind::parse(kind).unwrap(),
        parent_id: parent,
        validity: Validity::default(),
    }
}

struct World {
    province: Unit,
    commune_a: Unit,
    commune_b: Unit,
    roads: i64,
    other: i64,
    transport: i64,
    district: i64,
    commune_office: i64,
    staff: i64,
    reviewer: i64,
}

async fn user(db: &Db, name: &str) -> i64 {
    let u = ngoso_core::user::Username::parse(name).unwrap();
    users::create(
        db,
        &NewUser {
            username: &u,
            display_name: name,
            password_hash: "x",
            role: ngoso_core::auth::Role::AgencyStaff,
            unit_id: None,
        },
    )
    .await
    .unwrap()
}

async fn world(db: &Db) -> World {
    let province = units::create(db, &nu("80", "tỉnh", None)).await.unwrap();
    let commune_a = units::create(db, &nu("28414", "xã", Some(province.id))).await.unwrap();
    let commune_b = units::create(db, &nu("27700", "xã", Some(province.id))).await.unwrap();
    let cat = |code: &'static str, days: &'static str| NewCategory {
        code,
        name_vi: "Giao thông",
        name_en: "Roads",
        description_vi: "",
        description_en: "",
        deadline_days: days,
        day_kind: "working",
    };
    let roads = setup::create_category(db, &cat("roads", "10")).await.unwrap();
    let other = setup::create_category(db, &cat("other", "20")).await.unwrap();
    let (transport, _) = setup::create_agency(db, "transport", "Sở GTVT", "Transport", "").await.unwrap();
    let (district, _) =
        setup::create_agency(db, "district", "UBND huyện", "District", "https://example.org/hook").await.unwrap();
    let (commune_office, _) = setup::create_agency(db, "commune_a", "UBND xã", "Commune", "").await.unwrap();
    // Any category anywhere → district; roads anywhere → transport; anything in commune A → its office.
    setup::set_route(db, None, None, district).await.unwrap();
    setup::set_route(db, Some(roads), None, transport).await.unwrap();
    setup::set_route(db, None, Some(commune_a.id), commune_office).await.unwrap();
    let staff = user(db, "staff").await;
    let reviewer = user(db, "reviewer").await;
    World { province, commune_a, commune_b, roads, other, transport, district, commune_office, staff, reviewer }
}

fn item(category_id: i64, unit_id: Option<i64>, at: i64) -> NewItem {
    NewItem {
        category_id,
        unit_id,
        address: Some("Ấp 1, đường số 3".into()),
        point: None,
        description: "Đường hư 🕳️ nặng".into(),
        extra: Default::default(),
        channel: Channel::Web,
        contact_name: Some("Nguyễn Văn An".into()),
        contact_phone: Some("0912345678".into()),
        contact_email: None,
        consent: true,
        submitted_by: None,
        api_key_id: None,
        photo: None,
        received_at: at,
        client_id: None,
        media_url: None,
    }
}

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// Core's proof that `user` (an administrator of the whole tree here) may handle item `id`.
async fn handle(db: &Db, user: i64, id: i64) -> feedback::Handle {
    unaudited::handle(db, user, id).await.unwrap()
}

async fn count(db: &Db, sql: &'static str, id: i64) -> i64 {
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(p).await).unwrap()
}

async fn routing_codes_and_deadlines(db: Db) {
    let w = world(&db).await;
    let cal = Calendar::new([(NaiveDate::from_ymd_opt(2024, 10, 21).unwrap(), DayOff::Holiday)]);
    let t = at("2024-10-15T09:00:00+07:00");
    // Commune A: the unit rule is deeper than the category rule.
    let a = feedback::submit(&db, &cal, 10, DayKind::Working, &item(w.roads, Some(w.commune_a.id), t)).await.unwrap();
    assert_eq!(a.code, "PAKN.20241015.0001");
    assert_eq!(a.agency_id, Some(w.commune_office));
    assert_eq!(a.state, "forwarded");
    // Commune B, roads: the category rule over the any-category rule.
    let b = feedback::submit(&db, &cal, 10, DayKind::Working, &item(w.roads, Some(w.commune_b.id), t)).await.unwrap();
    assert_eq!(b.code, "PAKN.20241015.0002");
    assert_eq!(b.agency_id, Some(w.transport));
    // Province level, another category: the catch-all.
    let c = feedback::submit(&db, &cal, 10, DayKind::Working, &item(w.other, Some(w.province.id), t)).await.unwrap();
    assert_eq!(c.agency_id, Some(w.district));
    // Ten working days from Tuesday 15 October, with Monday 21 a holiday: Wednesday 30 October.
    assert_eq!(ngoso_core::calendar::w3c(a.due_at), "2024-10-30T23:59:59+07:00");
    // The next day starts again at 0001 (the day is Vietnam's: 23:30 UTC is the 16th there).
    let d = feedback::submit(&db, &cal, 10, DayKind::Working, &item(w.other, None, at("2024-10-15T23:30:00Z")))
        .await
        .unwrap();
    assert_eq!(d.code, "PAKN.20241016.0001");
    // No unit: only the whole-tree rule applies.
    assert_eq!(d.agency_id, Some(w.district));
    // History: submitted then forwarded by the routing; the webhook of the district queued,
    // the citizen's receipt queued.
    let h = unaudited::feedback_history(&db, c.id).await.unwrap();
    assert_eq!(h.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["submitted", "forward"]);
    assert_eq!(h[1].detail, "route");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox WHERE feedback_id = $1 AND kind = 'webhook'", c.id).await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox WHERE feedback_id = $1 AND kind = 'citizen'", c.id).await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox WHERE feedback_id = $1 AND kind = 'webhook'", a.id).await, 0);
    // Without any rule an item waits, received, for an officer to forward it.
    let all = setup::routes(&db).await.unwrap();
    for r in all {
        setup::delete_route(&db, r.id).await.unwrap();
    }
    let e = feedback::submit(&db, &cal, 10, DayKind::Working, &item(w.other, None, t)).await.unwrap();
    assert_eq!((e.state.as_str(), e.agency_id), ("received", None));
    // Text is stored as given.
    let got = unaudited::feedback_item(&db, e.id).await.unwrap();
    assert_eq!(got.description, "Đường hư 🕳️ nặng");
    assert_eq!(got.code, e.code);
}

/// Submissions sent at once (stored together on SQLite, in one transaction of savepoints):
/// each stored one has a number of its own, one refused (an unknown category) leaves the others
/// stored, and a second send of a client id finds the first's item instead of another.
async fn submissions_at_once(db: Db) {
    let w = world(&db).await;
    let sender = user(&db, "phone").await;
    let t = at("2024-10-15T09:00:00+07:00");
    let mut set = tokio::task::JoinSet::new();
    // Sends 7, 15 and 39 name a category that does not exist.
    let refused = |i: i64| i % 8 == 7 && i % 10 >= 4;
    for i in 0..40i64 {
        let db = db.clone();
        let mut n = item(if refused(i) { 999_999 } else { w.roads }, Some(w.commune_b.id), t);
        if i % 10 < 4 {
            // Ids 0–3 and 10–13 and so on: two sends of each of four ids.
            n.client_id = Some(format!("0190f0c8-0000-7000-8000-00000000000{}", i % 4));
            n.submitted_by = Some(sender);
        }
        set.spawn(async move { (i, feedback::submit(&db, &Calendar::default(), 10, DayKind::Working, &n).await) });
    }
    let mut stored = Vec::new();
    let mut by_client: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    while let Some(r) = set.join_next().await {
        let (i, r) = r.unwrap();
        if refused(i) {
            let e = r.unwrap_err();
            assert!(matches!(&e, ngoso_store::StoreError::Invalid(v) if v.code == "category-unknown"), "{e:?}");
            continue;
        }
        let s = r.unwrap();
        if i % 10 < 4 {
            by_client.entry(i % 4).or_default().push(s.id);
        }
        if !s.replayed {
            stored.push(s);
        }
    }
    // Four client ids, each sent four times: one item each.
    assert_eq!(by_client.len(), 4);
    for ids in by_client.values() {
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    }
    // One item for each accepted send without a client id, and one for each client id.
    let plain = (0..40).filter(|&i| i % 10 >= 4 && !refused(i)).count();
    assert_eq!(stored.len(), plain + 4);
    let mut codes: Vec<TrackingCode> = stored.iter().map(|s| TrackingCode::parse(&s.code).unwrap()).collect();
    codes.sort_by_key(|c| c.seq);
    codes.dedup();
    assert_eq!(codes.len(), stored.len(), "a number given twice");
    if db.backend() == ngoso_store::Backend::Sqlite {
        // One writer: the numbering has no gaps, refused submissions included.
        assert_eq!(codes.iter().map(|c| c.seq).collect::<Vec<_>>(), (1..=stored.len() as u32).collect::<Vec<_>>());
    }
    let n = stored.len() as i64;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM feedback WHERE $1 > 0", 1).await, n);
    assert_eq!(count(&db, "SELECT CAST(SUM(received) AS BIGINT) FROM feedback_counts WHERE $1 > 0", 1).await, n);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM feedback_history WHERE $1 > 0", 1).await, 2 * n);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox WHERE kind = 'citizen' AND $1 > 0", 1).await, n);
    let province = on_db!(&db, p => sqlx::query_scalar::<_, i64>(
        "SELECT CAST(SUM(value) AS BIGINT) FROM rollups WHERE unit_id = $1 AND figure = 'feedback_received'")
        .bind(w.province.id).fetch_one(p).await)
    .unwrap();
    assert_eq!(province, n);
}

/// Every (state, move) pair through the store: allowed moves change the state and write one
/// history row; refused ones change nothing and write nothing.
async fn every_transition(db: Db) {
    every_transition_in(&db).await;
}

async fn every_transition_in(db: &Db) {
    let db = db.clone();
    let w = world(&db).await;
    let cal = Calendar::default();
    let t = at("2024-10-15T09:00:00+07:00");
    // Brings a fresh item to `target` along a known path.
    async fn reach(db: &Db, w: &World, cal: &Calendar, t: i64, target: State) -> i64 {
        let mut n = item(w.other, Some(w.commune_b.id), t);
        n.contact_phone = None;
        let s = feedback::submit(db, cal, 5, DayKind::Working, &n).await.unwrap();
        let id = s.id;
        let mv = |m: Move, reason: Option<&str>| {
            let input = MoveInput { reason: reason.map(str::to_owned), ..Default::default() };
            async move { feedback::apply(db, &handle(db, w.staff, id).await, m, &input).await.unwrap() }
        };
        match target {
            State::Received => unreachable!(),
            State::Forwarded => {}
            State::InProgress => {
                mv(Move::Start, None).await;
            }
            State::NeedsInfo => {
                mv(Move::AskInfo, Some("Xin ảnh")).await;
            }
            State::Answered | State::Closed => {
                feedback::draft_answer(db, &handle(db, w.staff, id).await, "Đã sửa.").await.unwrap();
                feedback::apply(db, &handle(db, w.reviewer, id).await, Move::Answer, &MoveInput::default())
                    .await
                    .unwrap();
                if target == State::Closed {
                    mv(Move::Close, None).await;
                }
            }
            State::Rejected => {
                mv(Move::Reject, Some("Không thuộc thẩm quyền")).await;
            }
            State::Duplicate => {
                let orig = feedback::submit(db, cal, 5, DayKind::Working, &item(w.other, None, t)).await.unwrap();
                let input =
                    MoveInput { duplicate_of: Some(TrackingCode::parse(&orig.code).unwrap()), ..Default::default() };
                feedback::apply(db, &handle(db, w.staff, id).await, Move::Duplicate, &input).await.unwrap();
            }
        }
        assert_eq!(unaudited::feedback_item(db, id).await.unwrap().state(), target);
        id
    }
    let targets = [
        State::Forwarded,
        State::InProgress,
        State::NeedsInfo,
        State::Answered,
        State::Closed,
        State::Rejected,
        State::Duplicate,
    ];
    for from in targets {
        for m in Move::ALL {
            let id = reach(&db, &w, &cal, t, from).await;
            let before = unaudited::feedback_history(&db, id).await.unwrap().len();
            let orig = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, None, t)).await.unwrap();
            let input = MoveInput {
                agency_id: Some(w.transport),
                reason: Some("lý do".into()),
                duplicate_of: Some(TrackingCode::parse(&orig.code).unwrap()),
                draft_seen: None,
            };
            if m == Move::Answer && m.apply(from).is_ok() {
                feedback::draft_answer(&db, &handle(&db, w.staff, id).await, "Trả lời").await.unwrap();
            }
            let before = if m == Move::Answer && m.apply(from).is_ok() { before + 1 } else { before };
            let got = feedback::apply(&db, &handle(&db, w.reviewer, id).await, m, &input).await;
            let after = unaudited::feedback_item(&db, id).await.unwrap();
            let h = unaudited::feedback_history(&db, id).await.unwrap();
            match m.apply(from) {
                Ok(to) => {
                    assert_eq!(got.unwrap(), to, "{from} {m:?}");
                    assert_eq!(after.state(), to);
                    assert_eq!(h.len(), before + 1, "{from} {m:?}");
                    let last = h.last().unwrap();
                    assert_eq!(
                        (last.action.as_str(), last.from_state.as_deref(), last.to_state.as_deref()),
                        (m.as_str(), Some(from.as_str()), Some(to.as_str()))
                    );
                    assert_eq!(last.user_id, Some(w.reviewer));
                }
                Err(_) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains("feedback-move-refused"), "{from} {m:?}: {e}");
                    assert_eq!(after.state(), from);
                    assert_eq!(h.len(), before, "{from} {m:?}");
                }
            }
        }
    }
}

async fn rules_of_moves(db: Db) {
    let w = world(&db).await;
    let cal = Calendar::default();
    let t = ngoso_store::now();
    let s = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, Some(w.commune_b.id), t)).await.unwrap();
    let err = |r: Result<State, ngoso_store::StoreError>| r.unwrap_err().to_string();
    // A reason is required to reject; a known agency to forward; a different one than now.
    assert!(
        err(feedback::apply(&db, &handle(&db, w.staff, s.id).await, Move::Reject, &MoveInput::default()).await)
            .contains("required")
    );
    let bad = MoveInput { agency_id: Some(9999), ..Default::default() };
    assert!(
        err(feedback::apply(&db, &handle(&db, w.staff, s.id).await, Move::Forward, &bad).await)
            .contains("agency-unknown")
    );
    let same = MoveInput { agency_id: Some(w.district), ..Default::default() };
    assert!(
        err(feedback::apply(&db, &handle(&db, w.staff, s.id).await, Move::Forward, &same).await)
            .contains("feedback-same-agency")
    );
    // Reassignment moves it to the other agency's inbox.
    let to =
        MoveInput { agency_id: Some(w.transport), reason: Some("Đúng thẩm quyền".into()), ..Default::default() };
    feedback::apply(&db, &handle(&db, w.staff, s.id).await, Move::Forward, &to).await.unwrap();
    assert_eq!(unaudited::feedback_item(&db, s.id).await.unwrap().agency_id, Some(w.transport));
    // An answer needs a draft, and a reviewer other than its author.
    assert!(
        err(feedback::apply(&db, &handle(&db, w.staff, s.id).await, Move::Answer, &MoveInput::default()).await)
            .contains("feedback-no-draft")
    );
    feedback::draft_answer(&db, &handle(&db, w.staff, s.id).await, "Đã vá đường 👍").await.unwrap();
    assert!(
        err(feedback::apply(&db, &handle(&db, w.staff, s.id).await, Move::Answer, &MoveInput::default()).await)
            .contains("feedback-review-self")
    );
    assert_eq!(feedback::public_list(&db, &feedback::PublicFilter::default()).await.unwrap().len(), 0);
    feedback::apply(&db, &handle(&db, w.reviewer, s.id).await, Move::Answer, &MoveInput::default()).await.unwrap();
    let it = unaudited::feedback_item(&db, s.id).await.unwrap();
    assert_eq!(it.answer.as_deref(), Some("Đã vá đường 👍"));
    assert_eq!(it.on_time(), Some(true));
    let public = feedback::public_list(&db, &feedback::PublicFilter::default()).await.unwrap();
    assert_eq!(public.len(), 1);
    // Searched folded; the items recorded before the search key get theirs when the
    // program starts.
    let search = |q: &str| feedback::PublicFilter { query: q.into(), ..Default::default() };
    let n = ngoso_store::testing::forget_feedback_search_keys(&db).await.unwrap();
    assert!(n >= 1);
    assert_eq!(feedback::fill_search_keys(&db).await.unwrap(), n);
    assert_eq!(feedback::fill_search_keys(&db).await.unwrap(), 0);
    let found = feedback::public_list(&db, &search(&it.description.to_uppercase())).await.unwrap();
    assert_eq!(found.len(), 1, "{}", it.description);
    assert_eq!(feedback::public_list(&db, &search("không có ở đây")).await.unwrap().len(), 0);
    // Hidden items leave the public list.
    feedback::set_hidden(&db, &handle(&db, w.staff, s.id).await, Some("Có thông tin cá nhân")).await.unwrap();
    assert_eq!(feedback::public_list(&db, &feedback::PublicFilter::default()).await.unwrap().len(), 0);
    feedback::set_hidden(&db, &handle(&db, w.staff, s.id).await, None).await.unwrap();
    assert_eq!(feedback::public_list(&db, &feedback::PublicFilter::default()).await.unwrap().len(), 1);
    // The citizen rates with the key given at submission; a wrong key is refused.
    let code = TrackingCode::parse(&s.code).unwrap().to_string();
    assert_eq!(crate::refusal(feedback::rate(&db, &code, "wrong", Rating::Satisfied).await), "feedback-key-wrong");
    feedback::rate(&db, &code, &s.citizen_key, Rating::Acceptable).await.unwrap();
    assert_eq!(unaudited::feedback_item(&db, s.id).await.unwrap().rating.as_deref(), Some("acceptable"));
    // Duplicates link to the first item of a chain.
    let d1 = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, None, t)).await.unwrap();
    let d2 = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, None, t)).await.unwrap();
    let dup = |c: &str| MoveInput { duplicate_of: Some(TrackingCode::parse(c).unwrap()), ..Default::default() };
    feedback::apply(&db, &handle(&db, w.staff, d1.id).await, Move::Duplicate, &dup(&s.code)).await.unwrap();
    feedback::apply(&db, &handle(&db, w.staff, d2.id).await, Move::Duplicate, &dup(&d1.code)).await.unwrap();
    assert_eq!(unaudited::feedback_item(&db, d2.id).await.unwrap().duplicate_of, Some(s.id));
    let d3 = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, None, t)).await.unwrap();
    assert!(
        err(feedback::apply(&db, &handle(&db, w.staff, d3.id).await, Move::Duplicate, &dup(&d3.code)).await)
            .contains("duplicate-self")
    );
    // No loops through a chain: e2 duplicates e1, so e1 cannot duplicate e2.
    let e1 = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, None, t)).await.unwrap();
    let e2 = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, None, t)).await.unwrap();
    feedback::apply(&db, &handle(&db, w.staff, e2.id).await, Move::Duplicate, &dup(&e1.code)).await.unwrap();
    assert!(
        err(feedback::apply(&db, &handle(&db, w.staff, e1.id).await, Move::Duplicate, &dup(&e2.code)).await)
            .contains("duplicate-self")
    );
    // A reopened item starts without the old draft, answer or rating; a draft changed after
    // the reviewer read it is not published.
    let reopen = MoveInput { reason: Some("Chưa sửa".into()), ..Default::default() };
    feedback::apply(&db, &handle(&db, w.staff, s.id).await, Move::Reopen, &reopen).await.unwrap();
    let it = unaudited::feedback_item(&db, s.id).await.unwrap();
    assert!(it.answer_draft.is_none() && it.answer.is_none() && it.rating.is_none());
    assert!(
        err(feedback::apply(&db, &handle(&db, w.reviewer, s.id).await, Move::Answer, &MoveInput::default()).await)
            .contains("no-draft")
    );
    feedback::draft_answer(&db, &handle(&db, w.staff, s.id).await, "Bản một").await.unwrap();
    let seen = feedback::draft_hash("Bản một");
    feedback::draft_answer(&db, &handle(&db, w.staff, s.id).await, "Bản hai").await.unwrap();
    let stale = MoveInput { draft_seen: Some(seen), ..Default::default() };
    assert!(
        err(feedback::apply(&db, &handle(&db, w.reviewer, s.id).await, Move::Answer, &stale).await)
            .contains("draft-changed")
    );
    let fresh = MoveInput { draft_seen: Some(feedback::draft_hash("Bản hai")), ..Default::default() };
    feedback::apply(&db, &handle(&db, w.reviewer, s.id).await, Move::Answer, &fresh).await.unwrap();
    assert_eq!(unaudited::feedback_item(&db, s.id).await.unwrap().answer.as_deref(), Some("Bản hai"));
    // One rating per answer.
    feedback::rate(&db, &code, &s.citizen_key, Rating::Satisfied).await.unwrap();
    assert_eq!(
        crate::refusal(feedback::rate(&db, &code, &s.citizen_key, Rating::Acceptable).await),
        "feedback-already-rated"
    );
    // Needs info: the citizen answers with the key and the item goes back to work.
    feedback::apply(
        &db,
        &handle(&db, w.staff, d3.id).await,
        Move::AskInfo,
        &MoveInput { reason: Some("Địa chỉ cụ thể?".into()), ..Default::default() },
    )
    .await
    .unwrap();
    let c3 = TrackingCode::parse(&d3.code).unwrap().to_string();
    feedback::add_info(&db, &c3, &d3.citizen_key, "Số 12 đường 3").await.unwrap();
    assert_eq!(unaudited::feedback_item(&db, d3.id).await.unwrap().state(), State::InProgress);
    assert_eq!(crate::refusal(feedback::add_info(&db, &c3, &d3.citizen_key, "again").await), "feedback-no-info-asked");
}

async fn deadlines_inbox_and_overdue(db: Db) {
    let w = world(&db).await;
    let cal = Calendar::default();
    let old = at("2024-01-02T09:00:00+07:00");
    let new = at("2024-10-15T09:00:00+07:00");
    let now = at("2024-10-16T09:00:00+07:00");
    let late =
        feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.roads, Some(w.commune_b.id), old)).await.unwrap();
    let fresh =
        feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.roads, Some(w.commune_b.id), new)).await.unwrap();
    let elsewhere =
        feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.roads, Some(w.commune_a.id), old)).await.unwrap();
    let f = InboxFilter { agency_id: Some(w.transport), overdue_at: Some(now), ..Default::default() };
    let rows = feedback::inbox(&db, &f).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [late.id]);
    let of = |agency| InboxFilter { agency_id: Some(agency), overdue_at: Some(now), ..Default::default() };
    assert_eq!(feedback::inbox_count(&db, &of(w.transport), 1000).await.unwrap(), 1);
    // Scope: commune B's subtree sees only its items.
    let f = InboxFilter { within: Some(w.commune_b.unit_path()), ..Default::default() };
    let ids: Vec<i64> = feedback::inbox(&db, &f).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, [fresh.id, late.id]);
    assert!(!ids.contains(&elsewhere.id));
    // An extension moves the deadline by working days and records why.
    let due = feedback::extend(&db, &cal, &handle(&db, w.staff, late.id).await, 3, DayKind::Working, "Chờ kinh phí")
        .await
        .unwrap();
    let it = unaudited::feedback_item(&db, late.id).await.unwrap();
    assert!(it.extended && it.due_at == due && due > late.due_at);
    // An extension needs its reason.
    let h = handle(&db, w.staff, late.id).await;
    assert_eq!(crate::refusal(feedback::extend(&db, &cal, &h, 3, DayKind::Working, " ").await), "required");
    let h = unaudited::feedback_history(&db, late.id).await.unwrap();
    assert!(h.last().unwrap().detail.ends_with("Chờ kinh phí"));
    // Answered items are no longer overdue.
    feedback::draft_answer(&db, &handle(&db, w.staff, late.id).await, "Xong").await.unwrap();
    feedback::apply(&db, &handle(&db, w.reviewer, late.id).await, Move::Answer, &MoveInput::default()).await.unwrap();
    assert_eq!(feedback::inbox_count(&db, &of(w.transport), 1000).await.unwrap(), 0);
    assert_eq!(unaudited::feedback_item(&db, late.id).await.unwrap().on_time(), Some(false));
}

/// After every kind of change, the stored figures equal a recount from the items.
async fn figures_match_a_recount(db: Db) {
    every_transition_in(&db).await;
    assert_eq!(ngoso_store::check::run(&db).await.unwrap(), Vec::<String>::new());
    let all = ngoso_store::feedback_figures::counts(&db, None, "000000", "999999").await.unwrap();
    let received: i64 = all.iter().map(|c| c.received).sum();
    let items: i64 =
        on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM feedback").fetch_one(p).await).unwrap();
    assert_eq!(received, items);
    let answered: i64 = all.iter().map(|c| c.answered).sum();
    let with_answer: i64 =
        on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM feedback WHERE answered_at IS NOT NULL").fetch_one(p).await)
            .unwrap();
    assert_eq!(answered, with_answer);
    assert!(answered > 0);
    // The history cannot be changed or removed, even by hand.
    let upd = ngoso_store::on_write!(&db, p => sqlx::query("UPDATE feedback_history SET detail = 'x'").execute(p).await.map(|r| r.rows_affected()));
    assert!(upd.is_err());
    let del = ngoso_store::on_write!(&db, p => sqlx::query("DELETE FROM feedback_history").execute(p).await.map(|r| r.rows_affected()));
    assert!(del.is_err());
    // A contact removed on request: gone from the item, its pending messages given up.
    let with_contact: i64 =
        on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT MIN(id) FROM feedback").fetch_one(p).await).unwrap();
    let staff: i64 =
        on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT MIN(id) FROM users").fetch_one(p).await).unwrap();
    feedback::erase_contact(&db, &handle(&db, staff, with_contact).await).await.unwrap();
    let it = unaudited::feedback_item(&db, with_contact).await.unwrap();
    assert!(it.contact_name.is_none() && it.contact_phone.is_none());
    let waiting: i64 = on_db!(&db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM outbox WHERE feedback_id = $1 AND kind = 'citizen' AND gave_up_at IS NULL").bind(with_contact).fetch_one(p).await).unwrap();
    assert_eq!(waiting, 0);
    assert_eq!(unaudited::feedback_history(&db, with_contact).await.unwrap().last().unwrap().action, "erase_contact");
    // A counter out of step is reported.
    ngoso_store::on_write!(&db, p => sqlx::query("UPDATE feedback_counts SET received = received + 1 WHERE received > 0")
        .execute(p).await.map(|r| r.rows_affected())).unwrap();
    assert!(!ngoso_store::check::run(&db).await.unwrap().is_empty());
}

/// A staff action runs only if the item is still where the caller's access check saw it:
/// one reassigned in between (to another agency, by someone else) is "not found" to it, and
/// nothing of the action is stored.
async fn actions_hold_to_the_access_checked(db: Db) {
    let w = world(&db).await;
    let cal = Calendar::default();
    let s = feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, Some(w.commune_b.id), ngoso_store::now()))
        .await
        .unwrap();
    // The check, as a caller made it, with the item where it was then.
    let seen = handle(&db, w.staff, s.id).await;
    feedback::note(&db, &seen, "Đã tiếp nhận ✅").await.unwrap();
    let to =
        MoveInput { agency_id: Some(w.transport), reason: Some("Đúng thẩm quyền".into()), ..Default::default() };
    feedback::apply(&db, &handle(&db, w.reviewer, s.id).await, Move::Forward, &to).await.unwrap();
    let history = || count(&db, "SELECT COUNT(*) FROM feedback_history WHERE feedback_id = $1", s.id);
    let before = history().await;
    let reject = MoveInput { reason: Some("Không thuộc thẩm quyền".into()), ..Default::default() };
    let not_found = |e: ngoso_store::StoreError| assert!(matches!(e, ngoso_store::StoreError::NotFound), "{e:?}");
    not_found(feedback::note(&db, &seen, "Muộn").await.unwrap_err());
    not_found(feedback::apply(&db, &seen, Move::Reject, &reject).await.unwrap_err());
    not_found(feedback::draft_answer(&db, &seen, "Trả lời").await.unwrap_err());
    let after = unaudited::feedback_item(&db, s.id).await.unwrap();
    assert_eq!((after.agency_id, after.state.as_str(), after.answer_draft), (Some(w.transport), "forwarded", None));
    assert_eq!(history().await, before);
    // Checked where it is now, the same action goes through.
    feedback::note(&db, &handle(&db, w.staff, s.id).await, "Đã chuyển").await.unwrap();
    assert_eq!(history().await, before + 1);
}

/// A category's deadline can differ by channel (VIETNAM.md); without its own, a channel takes
/// the category's.
async fn deadlines_per_channel(db: Db) {
    let w = world(&db).await;
    let roads = setup::category(&db, w.roads).await.unwrap();
    let own = roads.deadline_for(Channel::Web);
    assert_eq!(roads.deadline_for(Channel::Hotline), own);
    setup::set_channel_deadline(&db, w.roads, "hotline", "3", "calendar").await.unwrap();
    setup::set_channel_deadline(&db, w.roads, "hotline", "2", "calendar").await.unwrap();
    let code = |r: ngoso_store::Result<()>| match r.unwrap_err() {
        ngoso_store::StoreError::Invalid(i) => i.code.to_owned(),
        e => format!("{e:?}"),
    };
    assert_eq!(
        code(setup::set_channel_deadline(&db, w.roads, "fax", "3", "calendar").await),
        "feedback-channel-invalid"
    );
    assert_eq!(code(setup::set_channel_deadline(&db, w.roads, "web", "0", "calendar").await), "days-invalid");
    assert!(matches!(
        setup::set_channel_deadline(&db, 9999, "web", "3", "calendar").await,
        Err(ngoso_store::StoreError::NotFound)
    ));
    for c in [
        setup::category(&db, w.roads).await.unwrap(),
        setup::categories(&db).await.unwrap().into_iter().find(|c| c.id == w.roads).unwrap(),
    ] {
        assert_eq!(c.deadline_for(Channel::Hotline), (2, DayKind::Calendar));
        assert_eq!(c.deadline_for(Channel::Web), own);
    }
    setup::remove_channel_deadline(&db, w.roads, "hotline").await.unwrap();
    assert_eq!(setup::category(&db, w.roads).await.unwrap().deadline_for(Channel::Hotline), own);
    assert!(matches!(
        setup::remove_channel_deadline(&db, w.roads, "hotline").await,
        Err(ngoso_store::StoreError::NotFound)
    ));
}

/// The citizen's secret key is never written in clear, even for a moment: only its hash. (It
/// was, in the item's provisional code, which lived on in SQLite's pages and in
/// PostgreSQL's dead row versions.)
async fn the_citizens_key_is_never_written(db: Db) {
    let w = world(&db).await;
    let cal = Calendar::default();
    let mut keys = Vec::new();
    for _ in 0..5 {
        let s =
            feedback::submit(&db, &cal, 5, DayKind::Working, &item(w.other, None, ngoso_store::now())).await.unwrap();
        keys.push(s.citizen_key);
    }
    let bytes: Vec<u8> = match &db {
        Db::Sqlite(p) => {
            let file = p.write.connect_options().get_filename().to_path_buf();
            let mut all = Vec::new();
            for suffix in ["", "-wal"] {
                let f = format!("{}{suffix}", file.display());
                all.extend(std::fs::read(&f).unwrap_or_default());
            }
            assert!(all.len() > 4096, "the database's files were read");
            all
        }
        Db::Pg(p) => {
            sqlx::query("CREATE EXTENSION IF NOT EXISTS pageinspect").execute(p).await.unwrap();
            let mut all = Vec::new();
            for table in ["feedback", "feedback_code_key"] {
                let pages: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT pg_relation_size('{table}') / current_setting('block_size')::bigint"
                )))
                .fetch_one(p)
                .await
                .unwrap();
                for n in 0..pages {
                    let page: Vec<u8> = sqlx::query_scalar("SELECT get_raw_page($1, $2::int)")
                        .bind(table)
                        .bind(n as i32)
                        .fetch_one(p)
                        .await
                        .unwrap();
                    all.extend(page);
                }
            }
            assert!(!all.is_empty(), "the table's pages were read");
            all
        }
    };
    for key in keys {
        assert!(!bytes.windows(key.len()).any(|w| w == key.as_bytes()), "the key {key} is in the database's pages");
    }
}

/// The raw export of items: those of the area and days asked for, in order, with codes and
/// Vietnam times; the citizen's words only with the proof of handling the area's feedback,
/// the contact never.
async fn the_export_lists_items_of_the_area(db: Db) {
    use ngoso_store::export::{self, Dataset, ExportFilter, Personal};
    let w = world(&db).await;
    let cal = Calendar::new([]);
    let t = at("2024-10-15T09:00:00+07:00");
    for unit in [Some(w.commune_a.id), Some(w.commune_b.id), Some(w.commune_a.id), None] {
        feedback::submit(&db, &cal, 10, DayKind::Working, &item(w.roads, unit, t)).await.unwrap();
    }
    feedback::submit(
        &db,
        &cal,
        10,
        DayKind::Working,
        &item(w.roads, Some(w.commune_a.id), at("2024-11-02T09:00:00+07:00")),
    )
    .await
    .unwrap();
    let f = ExportFilter {
        within: w.commune_a.unit_path(),
        from: at("2024-10-01T00:00:00+07:00"),
        to: at("2024-10-31T23:59:59+07:00"),
        after: 0,
        limit: 1,
    };
    let mut all = String::new();
    let mut f2 = f.clone();
    loop {
        let c = export::chunk(&db, Dataset::Feedback, &f2).await.unwrap();
        all.push_str(&c.csv);
        match c.last {
            Some(last) if c.window == f2.limit => f2.after = last,
            _ => break,
        }
    }
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 2, "commune A's two items of October: {all}");
    assert_eq!(
        lines[0],
        "\"PAKN.20241015.0001\",28414,\"roads\",web,forwarded,\"commune_a\",2024-10-15T09:00:00+07:00,\
         2024-10-29T23:59:59+07:00,,,,"
    );
    assert!(lines[1].starts_with("\"PAKN.20241015.0003\","), "{}", lines[1]);
    assert!(!all.contains("Đường") && !all.contains("0912345678") && !all.contains("Ấp 1"));
    let actor = ngoso_core::auth::Actor {
        user_id: w.staff,
        role: ngoso_core::auth::Role::Admin,
        scope: ngoso_core::auth::Scope::Subtree(w.province.unit_path()),
        agency_id: None,
    };
    let access =
        ngoso_core::auth::area::<ngoso_core::auth::may::ProcessFeedback>(&actor, Some(&w.commune_a.unit_path()))
            .unwrap();
    let c = export::chunk_personal(
        &db,
        Dataset::Feedback,
        &Personal::Feedback(access),
        &ExportFilter { limit: 10, ..f.clone() },
    )
    .await
    .unwrap();
    assert_eq!(c.lines, 2);
    assert!(c.csv.lines().next().unwrap().ends_with(",\"Đường hư 🕳️ nặng\",\"Ấp 1, đường số 3\",\"\""), "{}", c.csv);
    assert!(!c.csv.contains("0912345678") && !c.csv.contains("Nguyễn Văn An"));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_log WHERE action = 'feedback.export' AND user_id = $1", w.staff).await,
        1
    );
    // The proof of another kind does not open the citizens' words.
    let people = ngoso_core::auth::area::<ngoso_core::auth::may::ViewPersonalData>(&actor, None).unwrap();
    assert!(export::chunk_personal(&db, Dataset::Feedback, &Personal::People(people), &f).await.is_err());
}

both_backends!(
    the_export_lists_items_of_the_area,
    the_citizens_key_is_never_written,
    deadlines_per_channel,
    actions_hold_to_the_access_checked,
    routing_codes_and_deadlines,
    submissions_at_once,
    every_transition,
    rules_of_moves,
    deadlines_inbox_and_overdue,
    figures_match_a_recount
);
