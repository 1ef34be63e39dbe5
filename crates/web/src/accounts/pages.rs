//! The signed-in user's own account: details, password, API tokens.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::user::{Username, check_new_password};
use ngoso_store::tokens::{self, ApiToken};
use ngoso_store::units::{self, Unit};
use ngoso_store::users::Principal;
use ngoso_store::{sessions, users};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{PageUser, SESSION_COOKIE};
use crate::http::cookies::set_cookie;
use crate::http::error::{AppError, message};
use crate::http::extract::{Client, CsrfForm, Path, Query};
use crate::http::render::{Ctx, PageCtx, render, render_status};

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    ctx: PageCtx,
    me: Principal,
    role_key: String,
    scope_unit: Option<Unit>,
    tokens: Vec<ApiToken>,
    notice: Option<String>,
    error: Option<String>,
}

async fn page(
    st: &AppState,
    ctx: PageCtx,
    me: Principal,
    notice: Option<String>,
    error: Option<String>,
) -> Result<AccountPage, AppError> {
    let scope_unit = match me.unit_id {
        Some(id) => Some(units::get(&st.db, id).await?),
        None => None,
    };
    let tokens = tokens::list(&st.db, me.id).await?;
    let role_key = format!("role-{}", me.role.as_str());
    Ok(AccountPage { ctx, me, role_key, scope_unit, tokens, notice, error })
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `GET /app/account`.
pub(crate) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<Done>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_deref() {
        Some("password") => Some(ctx.t("account-password-changed")),
        Some("revoked") => Some(ctx.t("account-token-revoked-notice")),
        _ => None,
    };
    render(&page(&st, ctx, p, notice, None).await?)
}

#[derive(Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /app/account/password`: checks the current password, sets the new one, ends every
/// other session, revokes every API token, and opens a fresh session here.
pub(crate) async fn change_password(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Client(client): Client,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    // The current password is checked like a login: a stolen session cannot guess it freely.
    let key = p.username.to_lowercase();
    if let Some(wait) = crate::auth::login::attempt(&st, &key, &client).await? {
        return Err(AppError::too_many(wait));
    }
    let refusal = if users::authenticate(&st.db, &st.passwords, &p.username, &f.current).await?.is_none() {
        Some(ctx.t("err-password-wrong"))
    } else if let Err(e) = check_new_password(&f.new) {
        Some(message(ctx.lang, AppError::from(e).info()))
    } else if f.new != f.repeat {
        Some(ctx.t("err-password-mismatch"))
    } else {
        None
    };
    if let Some(msg) = refusal {
        let pg = page(&st, ctx, p, None, Some(msg)).await?;
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &pg);
    }
    sessions::clear_login_failures(&st.db, &key).await?;
    let name = Username::parse(&p.username)?;
    let hash = st.passwords.hash(&f.new).await?;
    // Every session and API token of the account ends; a fresh session opens here.
    users::set_password_hash(&st.db, &name, &hash).await?;
    let token = sessions::create(&st.db, p.id, st.cfg.session_ttl_secs).await?;
    let mut res = Redirect::to("/app/account?done=password").into_response();
    set_cookie(&mut res, SESSION_COOKIE, &token, Some(st.cfg.session_ttl_secs), true, st.cfg.secure_cookies());
    Ok(res)
}

/// `POST /app/account/tokens/{id}/revoke`.
pub(crate) async fn revoke_token(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    _: CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    tokens::revoke(&st.db, p.id, id).await?;
    Ok(Redirect::to("/app/account?done=revoked").into_response())
}
