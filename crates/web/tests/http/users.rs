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

async fn accounts_by_api_within_the_administrators_area(app: &mut TestApp) {
    use axum::http::Method;
    use serde_json::json;
    let t = app.tree().await;
    app.user("admin.huyen", Role::Admin, Some(&t.district_a)).await;
    let other = app.user("canbo.khac", Role::Officer, Some(&t.commune_b)).await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    let tok = app.token("admin.huyen").await;
    // Made in the area, with a generated password returned once; it works.
    let res = app
        .json(Method::POST, "/api/v1/users", Some(json!({"username": "thanhvien.moi", "display_name": "Thành viên mới 🙂", "role": "member", "unit": "28414"})), Some(&tok))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let (id, pw) = (res.json()["id"].as_i64().unwrap(), res.json()["password"].as_str().unwrap().to_owned());
    let pool = ngoso_store::secrets::PasswordPool::new(1, 8);
    assert!(ngoso_store::users::authenticate(&app.db, &pool, "thanhvien.moi", &pw).await.unwrap().is_some());
    // Refused whole: out of the area, too wide, taken, a bad role, a short password.
    for (body, status, code) in [
        (
            json!({"username": "ngoai", "role": "officer", "unit": "27700"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unit-unknown",
        ),
        (json!({"username": "sieu", "role": "admin", "unit": ""}), StatusCode::FORBIDDEN, "forbidden"),
        (
            json!({"username": "thanhvien.moi", "role": "member", "unit": "28414"}),
            StatusCode::CONFLICT,
            "username-taken",
        ),
        (json!({"username": "x.y", "role": "boss", "unit": "28414"}), StatusCode::UNPROCESSABLE_ENTITY, "role-invalid"),
        (
            json!({"username": "x.z", "role": "member", "unit": "28414", "password": "short"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password-too-short",
        ),
    ] {
        let res = app.json(Method::POST, "/api/v1/users", Some(body.clone()), Some(&tok)).await;
        assert_eq!((res.status, res.json()["error"]["code"].as_str()), (status, Some(code)), "{body}: {}", res.body);
    }
    // Listed in the area only.
    let res = app.json(Method::GET, "/api/v1/users", None, Some(&tok)).await;
    let names: Vec<String> =
        res.json().as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"thanhvien.moi".to_owned()) && !names.contains(&"canbo.khac".to_owned()), "{names:?}");
    // Disabled (its tokens stop), enabled, a new password; another area's account: not found.
    let res = app
        .json(Method::POST, "/api/v1/auth/token", Some(json!({"username": "thanhvien.moi", "password": pw})), None)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let member = res.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&member)).await.status, StatusCode::OK);
    let res = app.json(Method::POST, &format!("/api/v1/users/{id}/disable"), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&member)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.json(Method::GET, &format!("/api/v1/users/{id}"), None, Some(&tok)).await.json()["disabled"], true);
    let res = app.json(Method::POST, &format!("/api/v1/users/{id}/enable"), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = app.json(Method::POST, &format!("/api/v1/users/{id}/password"), None, Some(&tok)).await;
    let pw2 = res.json()["password"].as_str().unwrap().to_owned();
    assert!(ngoso_store::users::authenticate(&app.db, &pool, "thanhvien.moi", &pw2).await.unwrap().is_some());
    for path in [format!("/api/v1/users/{other}"), format!("/api/v1/users/{other}/disable")] {
        let m = if path.ends_with("disable") { Method::POST } else { Method::GET };
        let res = app.json(m, &path, None, Some(&tok)).await;
        assert!(matches!(res.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{path}: {}", res.body);
    }
    // Not an administrator: refused.
    let officer = app.token("canbo.a").await;
    assert_eq!(app.json(Method::GET, "/api/v1/users", None, Some(&officer)).await.status, StatusCode::FORBIDDEN);
    let log = ngoso_store::audit::list(&app.db, Some(("user", &id.to_string())), 20).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for a in ["user.create", "user.disable", "user.enable", "user.reset_password"] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
}

http_tests!(
    accounts_by_api_within_the_administrators_area,
    scoped_admin_manages_accounts_inside_the_scope,
    non_admins_cannot_manage_accounts,
    accounts_are_managed_only_within_the_managers_reach
);
