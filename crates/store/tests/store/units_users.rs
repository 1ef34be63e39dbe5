//! Units, users, sessions and API tokens in the store, on both backends.

use ngoso_core::auth::{Role, Scope};
use ngoso_core::import::{ImportRow, plan_units};
use ngoso_core::unit::{UnitCode, UnitKind, UnitName, UnitPath, Validity};
use ngoso_core::user::Username;
use ngoso_store::units::{self, NewUnit};
use ngoso_store::{Db, StoreError, both_backends, secrets, sessions, tokens, users};

fn new_unit(code: &str, name: &str, kind: &str, parent: Option<i64>) -> NewUnit {
    NewUnit {
        code: UnitCode::parse(code).unwrap(),
        name: UnitName::parse(name).unwrap(),
        kind: UnitKind::parse(kind).unwrap(),
        parent_id: parent,
        validity: Validity::default(),
    }
}

async fn tree(db: &Db) -> (units::Unit, units::Unit, units::Unit, units::Unit) {
    let p = units::create(db, &new_unit("80", "Long An", "tỉnh", None)).await.unwrap();
    let d = units::create(db, &new_unit("794", "Cần Giuộc", "huyện", Some(p.id))).await.unwrap();
    let c = units::create(db, &new_unit("27694", "Xã Phước Lý", "xã", Some(d.id))).await.unwrap();
    let h = units::create(db, &new_unit("27694-01", "Ấp 1 🌾", "ấp", Some(c.id))).await.unwrap();
    (p, d, c, h)
}

async fn units_create_and_browse(db: Db) {
    let (p, d, c, h) = tree(&db).await;
    assert_eq!(p.path, format!("/{}/", p.id));
    assert_eq!(h.path, format!("/{}/{}/{}/{}/", p.id, d.id, c.id, h.id));
    assert_eq!(h.depth, 3);
    assert_eq!(h.name, "Ấp 1 🌾");
    let anc = units::ancestors(&db, &h).await.unwrap();
    assert_eq!(anc.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), vec!["80", "794", "27694"]);
    assert_eq!(units::subtree_size(&db, &d.unit_path()).await.unwrap(), 3);

    // Children sort in Vietnamese order, not by code point.
    for (code, name) in [("795", "Đức Hòa"), ("796", "Bến Lức"), ("797", "Ân Thi"), ("798", "Zô")] {
        units::create(&db, &new_unit(code, name, "huyện", Some(p.id))).await.unwrap();
    }
    let names: Vec<String> = units::children(&db, Some(p.id)).await.unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, vec!["Ân Thi", "Bến Lức", "Cần Giuộc", "Đức Hòa", "Zô"]);
    let roots = units::children(&db, None).await.unwrap();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].child_count, 5);

    // Search by folded key, inside a subtree.
    let found = units::search(&db, "phuoc ly", None, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "27694");
    assert!(units::search(&db, "phuoc", Some(&UnitPath::root(999)), 10).await.unwrap().is_empty());
    assert_eq!(units::search(&db, "100%", None, 10).await.unwrap().len(), 0);

    // A duplicate code is refused with a clear reason and nothing changes.
    let before = units::count(&db).await.unwrap();
    let err = units::create(&db, &new_unit("80", "Again", "tỉnh", None)).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref i) if i.code == "unit-code-exists"), "{err:?}");
    let err = units::create(&db, &new_unit("81", "Orphan", "xã", Some(987654))).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref i) if i.code == "unit-parent-unknown"), "{err:?}");
    assert_eq!(units::count(&db).await.unwrap(), before);
    assert!(matches!(units::get(&db, 987654).await, Err(StoreError::NotFound)));
}

async fn units_rename_and_move(db: Db) {
    let (p, d, c, h) = tree(&db).await;
    let r = units::rename(&db, c.id, &UnitName::parse("Xã Phước Lý Mới").unwrap(), &UnitKind::parse("xã").unwrap())
        .await
        .unwrap();
    assert_eq!(r.name, "Xã Phước Lý Mới");
    assert_eq!(units::search(&db, "PHUOC LY MOI", None, 5).await.unwrap().len(), 1);

    // Move the commune (with its hamlet) straight under the province.
    let moved = units::move_to(&db, c.id, Some(p.id)).await.unwrap();
    assert_eq!(moved.path, format!("/{}/{}/", p.id, c.id));
    assert_eq!(moved.depth, 1);
    assert_eq!(moved.parent_id, Some(p.id));
    let h2 = units::get(&db, h.id).await.unwrap();
    assert_eq!(h2.path, format!("/{}/{}/{}/", p.id, c.id, h.id));
    assert_eq!(h2.depth, 2);
    assert_eq!(units::subtree_size(&db, &d.unit_path()).await.unwrap(), 1);

    // A unit cannot move under itself or its descendants.
    let err = units::move_to(&db, c.id, Some(h.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref i) if i.code == "unit-move-cycle"), "{err:?}");
    let err = units::move_to(&db, c.id, Some(c.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref i) if i.code == "unit-move-cycle"), "{err:?}");
    assert_eq!(units::get(&db, h.id).await.unwrap().path, h2.path);

    // Moving to the top makes a root.
    let top = units::move_to(&db, d.id, None).await.unwrap();
    assert_eq!(top.path, format!("/{}/", d.id));
    assert_eq!(top.depth, 0);
}

fn row(n: u64, code: &str, name: &str, kind: &str, parent: &str) -> ImportRow {
    ImportRow {
        row: n,
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        parent_code: parent.into(),
        ..Default::default()
    }
}

async fn units_import(db: Db) {
    let p = units::create(&db, &new_unit("80", "Long An", "tỉnh", None)).await.unwrap();
    let mut rows = vec![row(2, "794", "Cần Giuộc", "huyện", "80")];
    for i in 0..2500u64 {
        rows.push(row(3 + i, &format!("X{i}"), &format!("Xã số {i}"), "xã", "794"));
    }
    let mut hamlet = row(9999, "X0-1", "Ấp Đông \\ Hòa 🌾", "ấp", "X0");
    hamlet.valid_from = "2025-07-01".into();
    rows.push(hamlet);
    let existing = units::existing_for_import(&db, None).await.unwrap();
    let plan = plan_units(&rows, &existing).unwrap();
    let seen = std::sync::atomic::AtomicU64::new(0);
    let n = units::import(&db, &plan, &|k| seen.store(k, std::sync::atomic::Ordering::Relaxed)).await.unwrap();
    assert_eq!(n, 2502);
    assert_eq!(seen.into_inner(), 2502);
    let d = units::by_code(&db, "794").await.unwrap();
    assert_eq!(d.parent_id, Some(p.id));
    let a = units::by_code(&db, "X0-1").await.unwrap();
    let x0 = units::by_code(&db, "X0").await.unwrap();
    assert_eq!(a.path, format!("/{}/{}/{}/{}/", p.id, d.id, x0.id, a.id));
    // Every column as the one-by-one path writes it (PostgreSQL's is a COPY).
    assert_eq!(a.name, "Ấp Đông \\ Hòa 🌾");
    assert_eq!(a.valid_from, chrono::NaiveDate::from_ymd_opt(2025, 7, 1));
    let (key, sort): (String, Vec<u8>) = ngoso_store::on_db!(&db, c => sqlx::query_as(
        "SELECT name_key, name_sort FROM units WHERE id = $1").bind(a.id).fetch_one(c).await)
    .unwrap();
    assert_eq!(key, ngoso_core::text::fold(&a.name));
    assert_eq!(sort, ngoso_core::text::sort_key(&a.name));
    assert_eq!(units::subtree_size(&db, &p.unit_path()).await.unwrap(), 2503);

    // Ids keep coming after an import.
    let next = units::create(&db, &new_unit("NEXT", "Sau", "xã", Some(d.id))).await.unwrap();
    assert!(next.id > a.id.max(x0.id));

    // A plan that collides with a code created meanwhile is refused whole.
    let existing = units::existing_for_import(&db, None).await.unwrap();
    let plan = plan_units(&[row(2, "Y1", "y", "xã", "80"), row(3, "Y2", "y", "xã", "80")], &existing).unwrap();
    units::create(&db, &new_unit("Y2", "Chen ngang", "xã", Some(p.id))).await.unwrap();
    let before = units::count(&db).await.unwrap();
    assert_eq!(crate::refusal(units::import(&db, &plan, &|_| {}).await), "unit-code-exists");
    assert_eq!(units::count(&db).await.unwrap(), before);
    assert!(matches!(units::by_code(&db, "Y1").await, Err(StoreError::NotFound)));
}

async fn users_sessions_and_tokens(db: Db) {
    let (_, _, c, _) = tree(&db).await;
    let name = Username::parse("can.bo").unwrap();
    let hash = secrets::hash_password("mật khẩu dài 123");
    let id = users::create(
        &db,
        &users::NewUser {
            username: &name,
            display_name: "Cán bộ xã",
            password_hash: &hash,
            role: Role::Officer,
            unit_id: Some(c.id),
        },
    )
    .await
    .unwrap();
    let dup = users::create(
        &db,
        &users::NewUser { username: &name, display_name: "x", password_hash: &hash, role: Role::Viewer, unit_id: None },
    )
    .await
    .unwrap_err();
    assert!(matches!(dup, StoreError::Invalid(ref i) if i.code == "username-taken"));

    assert!(
        users::authenticate(&db, &ngoso_store::secrets::PasswordPool::new(1, 8), "can.bo", "sai mật khẩu")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::authenticate(&db, &ngoso_store::secrets::PasswordPool::new(1, 8), "nobody", "mật khẩu dài 123")
            .await
            .unwrap()
            .is_none()
    );
    let me = users::authenticate(&db, &ngoso_store::secrets::PasswordPool::new(1, 8), "CAN.BO", "mật khẩu dài 123")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(me.id, id);
    assert_eq!(me.role, Role::Officer);
    assert_eq!(me.scope, Scope::Subtree(c.unit_path()));

    let token = sessions::create(&db, id, 3600).await.unwrap();
    assert_eq!(sessions::principal(&db, &token).await.unwrap().unwrap().id, id);
    assert!(sessions::principal(&db, "forged").await.unwrap().is_none());
    let expired = sessions::create(&db, id, -1).await.unwrap();
    assert!(sessions::principal(&db, &expired).await.unwrap().is_none());

    let api = tokens::issue(&db, id, "phone", 3600).await.unwrap();
    assert!(api.token.starts_with(tokens::PREFIX));
    assert_eq!(tokens::principal(&db, &api.token).await.unwrap().unwrap().id, id);
    assert_eq!(tokens::list(&db, id).await.unwrap().len(), 1);

    // Listing by scope.
    assert_eq!(users::list(&db, Some(&c.unit_path())).await.unwrap().len(), 1);
    assert_eq!(users::list(&db, Some(&UnitPath::root(424242))).await.unwrap().len(), 0);

    // Disabling ends sessions and tokens; enabling does not bring them back.
    users::set_disabled(&db, &name, true).await.unwrap();
    assert!(sessions::principal(&db, &token).await.unwrap().is_none());
    assert!(tokens::principal(&db, &api.token).await.unwrap().is_none());
    assert!(
        users::authenticate(&db, &ngoso_store::secrets::PasswordPool::new(1, 8), "can.bo", "mật khẩu dài 123")
            .await
            .unwrap()
            .is_none()
    );
    users::set_disabled(&db, &name, false).await.unwrap();
    assert!(tokens::principal(&db, &api.token).await.unwrap().is_none());

    // A new password ends sessions; the old password stops working.
    let token = sessions::create(&db, id, 3600).await.unwrap();
    users::set_password_hash(&db, &name, &secrets::hash_password("mật khẩu mới 456")).await.unwrap();
    assert!(sessions::principal(&db, &token).await.unwrap().is_none());
    assert!(
        users::authenticate(&db, &ngoso_store::secrets::PasswordPool::new(1, 8), "can.bo", "mật khẩu dài 123")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::authenticate(&db, &ngoso_store::secrets::PasswordPool::new(1, 8), "can.bo", "mật khẩu mới 456")
            .await
            .unwrap()
            .is_some()
    );

    // Revocation.
    let api = tokens::issue(&db, id, "laptop", 3600).await.unwrap();
    tokens::revoke(&db, id, api.id).await.unwrap();
    assert!(tokens::principal(&db, &api.token).await.unwrap().is_none());
    assert!(matches!(tokens::revoke(&db, id, api.id).await, Err(StoreError::NotFound)));

    // Login failures are counted per user name and per client.
    sessions::record_login_failure(&db, "can.bo", "10.0.0.1").await.unwrap();
    sessions::record_login_failure(&db, "can.bo", "10.0.0.2").await.unwrap();
    let since = ngoso_store::now() - 60;
    assert_eq!(sessions::recent_login_failures(&db, "can.bo", "10.0.0.1", since).await.unwrap(), (2, 1));
    sessions::clear_login_failures(&db, "can.bo").await.unwrap();
    assert_eq!(sessions::recent_login_failures(&db, "can.bo", "10.0.0.1", since).await.unwrap(), (0, 0));
}

/// The tree on a day: units closed before it or opened after it are not in it; successors
/// are recorded once, read both ways, and never overlap their predecessor.
async fn the_tree_on_a_day_and_successors(db: Db) {
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let dated = |code: &str, name: &str, kind: &str, parent: Option<i64>, from: Option<&str>, to: Option<&str>| {
        NewUnit { validity: Validity::parse(from, to).unwrap(), ..new_unit(code, name, kind, parent) }
    };
    let old_p = units::create(&db, &dated("80", "Long An", "tỉnh", None, None, Some("2025-07-01"))).await.unwrap();
    let new_p = units::create(&db, &dated("T80", "Tây Ninh", "tỉnh", None, Some("2025-07-01"), None)).await.unwrap();
    let a = units::create(&db, &dated("807", "Cần Giuộc", "huyện", Some(old_p.id), None, Some("2025-07-01")))
        .await
        .unwrap();
    let b =
        units::create(&db, &dated("796", "Tân Hưng", "huyện", Some(old_p.id), None, Some("2025-07-01"))).await.unwrap();
    let n =
        units::create(&db, &dated("27700", "Phước Lý", "xã", Some(new_p.id), Some("2025-07-01"), None)).await.unwrap();
    let names = |v: Vec<units::UnitListItem>| v.into_iter().map(|u| (u.name, u.child_count)).collect::<Vec<_>>();
    assert_eq!(names(units::children_on(&db, None, day("2025-06-30")).await.unwrap()), [("Long An".to_owned(), 2)]);
    assert_eq!(names(units::children_on(&db, None, day("2025-07-01")).await.unwrap()), [("Tây Ninh".to_owned(), 1)]);
    assert_eq!(
        names(units::children_on(&db, Some(old_p.id), day("2025-06-30")).await.unwrap()),
        [("Cần Giuộc".to_owned(), 0), ("Tân Hưng".to_owned(), 0)]
    );
    assert!(units::children_on(&db, Some(old_p.id), day("2026-01-01")).await.unwrap().is_empty());
    assert_eq!(units::children(&db, Some(old_p.id)).await.unwrap().len(), 2, "children() keeps every unit");
    assert!(a.exists_on(day("2025-06-30")) && !a.exists_on(day("2025-07-01")) && a.closed_by(day("2025-07-01")));
    for _ in 0..2 {
        units::add_successor(&db, a.id, n.id).await.unwrap();
    }
    units::add_successor(&db, b.id, n.id).await.unwrap();
    let codes = |v: Vec<units::Unit>| v.into_iter().map(|u| u.code).collect::<Vec<_>>();
    assert_eq!(codes(units::successors(&db, a.id).await.unwrap()), ["27700"]);
    assert_eq!(codes(units::predecessors(&db, n.id).await.unwrap()), ["807", "796"]);
    assert!(units::successors(&db, n.id).await.unwrap().is_empty());
    assert_eq!(crate::refusal(units::add_successor(&db, a.id, a.id).await), "unit-successor-self");
    assert_eq!(crate::refusal(units::add_successor(&db, n.id, a.id).await), "unit-successor-overlap");
    assert!(matches!(units::add_successor(&db, a.id, 999_999).await, Err(StoreError::NotFound)));
}

both_backends!(
    units_create_and_browse,
    units_rename_and_move,
    units_import,
    users_sessions_and_tokens,
    the_tree_on_a_day_and_successors
);
