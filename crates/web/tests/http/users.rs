//! Account management pages, inside the administrator's scope.

use axum::http::StatusCode;
use ngoso_core::auth::Role;

use crate::http_tests;
use crate::support::TestApp;

async fn scoped_admin_manages_accounts_inside_the_scope(app: &mut TestApp) {
    let t = app.tree().await;
    let me = app.user("admin.huyen", Role::Admin, Some(&t.district_a)).await;
    let other = app.user("canbo.khac", Role::Officer, Some(&t.commune_b)).await;
    app.login("admin.huyen").await;
    let csrf = app.csrf("/app/users/new").await;

    // Inside the district: created; the generated password is shown once and works.
    let res = app
        .post_form(
            "/app/users/new",
            &[
                ("csrf", &csrf),
                ("username", "canbo.xa"),
                ("display_name", "Cán bộ xã 👩"),
                ("role", "officer"),
                ("unit", "28414"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let start = res.body.find("<code>").unwrap() + 6;
    let pw = &res.body[start..start + 16];
    let p = ngoso_store::users::authenticate(&app.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "canbo.xa", pw)
        .await
        .unwrap()
        .expect("the shown password works");
    assert_eq!(p.unit_id, Some(t.commune_a.id));
    assert_eq!(p.display_name, "Cán bộ xã 👩");

    // Outside the district, or the whole tree: refused, nothing created.
    let res = app
        .post_form(
            "/app/users/new",
            &[
                ("csrf", &csrf),
                ("username", "ngoai.pham.vi"),
                ("display_name", "x"),
                ("role", "officer"),
                ("unit", "27700"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("ngoai.pham.vi"), "the form keeps what was typed");
    let res = app
        .post_form(
            "/app/users/new",
            &[
                ("csrf", &csrf),
                ("username", "sieu.admin"),
                ("display_name", "x"),
                ("role", "admin"),
                ("unit", ""),
                ("password", ""),
            ],
        )
        .await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let res = app
        .post_form(
            "/app/users/new",
            &[
                ("csrf", &csrf),
                ("username", "canbo.xa"),
                ("display_name", "x"),
                ("role", "member"),
                ("unit", "28414"),
                ("password", ""),
            ],
        )
        .await;
    res.assert_notice(StatusCode::CONFLICT, "Tên đăng nhập canbo.xa đã được dùng.");
    let res = app
        .post_form(
            "/app/users/new",
            &[
                ("csrf", &csrf),
                ("username", "new.user"),
                ("display_name", "x"),
                ("role", "member"),
                ("unit", "28414"),
                ("password", "short"),
            ],
        )
        .await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Mật khẩu cần ít nhất 10 ký tự.");
    assert!(
        ngoso_store::users::authenticate(&app.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "ngoai.pham.vi", "x")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(ngoso_store::users::count(&app.db).await.unwrap(), 3);

    // The list shows only their scope.
    let list = app.get("/app/users").await;
    assert!(list.body.contains("canbo.xa") && !list.body.contains("canbo.khac"));

    // Someone outside: not found. Themselves: not allowed.
    let res = app.post_form(&format!("/app/users/{other}/disable"), &[("csrf", &csrf)]).await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
    let res = app.post_form(&format!("/app/users/{me}/disable"), &[("csrf", &csrf)]).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");

    // Disable, enable, reset the password of the new officer.
    let res = app.post_form(&format!("/app/users/{}/disable", p.id), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(
        ngoso_store::users::authenticate(&app.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "canbo.xa", pw)
            .await
            .unwrap()
            .is_none()
    );
    app.post_form(&format!("/app/users/{}/enable", p.id), &[("csrf", &csrf)]).await;
    let res = app.post_form(&format!("/app/users/{}/reset-password", p.id), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::OK);
    let start = res.body.find("<code>").unwrap() + 6;
    let pw2 = &res.body[start..start + 16];
    assert!(
        ngoso_store::users::authenticate(&app.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "canbo.xa", pw2)
            .await
            .unwrap()
            .is_some()
    );
    let log = ngoso_store::audit::list(&app.db, Some(("user", &p.id.to_string())), 10).await.unwrap();
    assert_eq!(log.len(), 4);
}

async fn non_admins_cannot_manage_accounts(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo", Role::Officer, Some(&t.commune_a)).await;
    let target = app.user("thanhvien", Role::Member, Some(&t.hamlet_a)).await;
    app.login("canbo").await;
    assert_eq!(app.get("/app/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/app/users/new").await.status, StatusCode::FORBIDDEN);
    let csrf = app.csrf("/app/units").await;
    let res = app.post_form(&format!("/app/users/{target}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(!app.get("/app/units").await.body.contains("/app/users\""), "no link to a page they cannot use");
}

/// Agency staff handle their agency's items with no unit, wherever they are: their reach is
/// wider than any commune, so an administrator of a commune (or district) may not reset
/// their password or disable them, nor create one; an administrator of the whole tree may.
async fn accounts_are_managed_only_within_the_managers_reach(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("admin.huyen", Role::Admin, Some(&t.district_a)).await;
    app.user("admin", Role::Admin, None).await;
    let staff = app.user("canbo.ubnd", Role::AgencyStaff, Some(&t.commune_a)).await;
    app.login("admin.huyen").await;
    let csrf = app.csrf("/app/users").await;
    for what in ["reset-password", "disable"] {
        let res = app.post_form(&format!("/app/users/{staff}/{what}"), &[("csrf", &csrf)]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}: {}", res.body);
    }
    let new = [
        ("csrf", csrf.as_str()),
        ("username", "canbo.moi"),
        ("display_name", "x"),
        ("role", "agency_staff"),
        ("unit", "28414"),
        ("password", ""),
    ];
    assert_eq!(app.post_form("/app/users/new", &new).await.status, StatusCode::FORBIDDEN);
    assert!(
        ngoso_store::users::authenticate(
            &app.db,
            &ngoso_store::secrets::PasswordPool::new(1, 8),
            "canbo.ubnd",
            crate::support::PASSWORD
        )
        .await
        .unwrap()
        .is_some(),
        "the password is unchanged"
    );
    app.cookies.clear();
    app.login("admin").await;
    let csrf = app.csrf("/app/users").await;
    let res = app.post_form(&format!("/app/users/{staff}/reset-password"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::OK);
}

http_tests!(
    scoped_admin_manages_accounts_inside_the_scope,
    non_admins_cannot_manage_accounts,
    accounts_are_managed_only_within_the_managers_reach
);
