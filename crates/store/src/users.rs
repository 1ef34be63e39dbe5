//! Accounts, and the principal a request acts as.

use ngoso_core::Invalid;
use ngoso_core::auth::{Role, Scope};
use ngoso_core::unit::UnitPath;
use ngoso_core::user::Username;
use serde::Serialize;

use crate::secrets::PasswordPool;
use crate::{Db, Result, StoreError, now, on_db, on_write};

/// An account as listed.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit_id: Option<i64>,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub unit_path: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
}

/// Who a request acts as: the user, their role and their scope in the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    /// The unit of the scope, when the scope is not the whole tree.
    pub unit_id: Option<i64>,
    /// The agency an agency-staff account answers for.
    pub agency_id: Option<i64>,
}

impl Principal {
    /// The root of the account's scope: `None` for the whole tree.
    pub fn scope_root(&self) -> Option<&UnitPath> {
        match &self.scope {
            Scope::All => None,
            Scope::Subtree(p) => Some(p),
        }
    }

    /// The account as the access checks see it.
    pub fn actor(&self) -> ngoso_core::auth::Actor {
        ngoso_core::auth::Actor {
            user_id: self.id,
            role: self.role,
            scope: self.scope.clone(),
            agency_id: self.agency_id,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PrincipalRow {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) unit_id: Option<i64>,
    pub(crate) path: Option<String>,
    pub(crate) disabled: bool,
    pub(crate) password_hash: String,
    pub(crate) agency_id: Option<i64>,
}

impl PrincipalRow {
    pub(crate) fn into_principal(self) -> Option<Principal> {
        let role = Role::parse(&self.role).ok()?;
        let scope = match (self.unit_id, self.path) {
            (None, _) => Scope::All,
            (Some(_), Some(p)) => Scope::Subtree(UnitPath::from_stored(p)),
            (Some(_), None) => return None,
        };
        Some(Principal {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            role,
            scope,
            unit_id: self.unit_id,
            agency_id: self.agency_id,
        })
    }
}

/// An account to create. The password is already hashed.
pub struct NewUser<'a> {
    pub username: &'a Username,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub unit_id: Option<i64>,
}

pub async fn create(db: &Db, u: &NewUser<'_>) -> Result<i64> {
    let t = now();
    let sql = "INSERT INTO users (username, display_name, password_hash, role, unit_id, disabled, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) RETURNING id";
    let res: Result<i64, sqlx::Error> = on_write!(db, p => sqlx::query_scalar(sql)
        .bind(u.username.as_str())
        .bind(u.display_name)
        .bind(u.password_hash)
        .bind(u.role.as_str())
        .bind(u.unit_id)
        .bind(t)
        .fetch_one(p).await);
    res.map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            Invalid::field("username-taken", "username").with_detail(u.username.as_str()).into()
        } else {
            e
        }
    })
}

/// Checks a user name and password. Returns the principal of an enabled account whose
/// password matches; `None` otherwise (unknown user, wrong password or disabled account
/// all look the same, and take the same time). The check runs on the [`PasswordPool`]
/// (`Busy` when it is full).
///
/// [`PasswordPool`]: crate::secrets::PasswordPool
pub async fn authenticate(db: &Db, pool: &PasswordPool, username: &str, password: &str) -> Result<Option<Principal>> {
    let Ok(name) = Username::parse(username) else {
        pool.burn(password).await?;
        return Ok(None);
    };
    let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.path, us.disabled, us.password_hash, us.agency_id \
               FROM users us LEFT JOIN units un ON un.id = us.unit_id WHERE us.username = $1";
    let row: Option<PrincipalRow> = on_db!(db, p => sqlx::query_as(sql).bind(name.as_str()).fetch_optional(p).await)?;
    let Some(row) = row else {
        pool.burn(password).await?;
        return Ok(None);
    };
    let ok = pool.verify(password, &row.password_hash).await?;
    if !ok || row.disabled {
        return Ok(None);
    }
    Ok(row.into_principal())
}

/// The principal of an enabled user, by id.
pub async fn principal(db: &Db, user_id: i64) -> Result<Option<Principal>> {
    let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.path, us.disabled, us.password_hash, us.agency_id \
               FROM users us LEFT JOIN units un ON un.id = us.unit_id WHERE us.id = $1";
    let row: Option<PrincipalRow> = on_db!(db, p => sqlx::query_as(sql).bind(user_id).fetch_optional(p).await)?;
    Ok(row.filter(|r| !r.disabled).and_then(PrincipalRow::into_principal))
}

/// Accounts whose scope lies inside `within` (all accounts when `None`), by user name.
pub async fn list(db: &Db, within: Option<&UnitPath>) -> Result<Vec<User>> {
    let rows = match within {
        None => {
            let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.code AS unit_code, \
                       un.name AS unit_name, un.path AS unit_path, us.disabled, us.created_at \
                       FROM users us LEFT JOIN units un ON un.id = us.unit_id ORDER BY us.username";
            on_db!(db, p => sqlx::query_as::<_, User>(sql).fetch_all(p).await)?
        }
        Some(path) => {
            let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.code AS unit_code, \
                       un.name AS unit_name, un.path AS unit_path, us.disabled, us.created_at \
                       FROM users us JOIN units un ON un.id = us.unit_id \
                       WHERE un.path >= $1 AND un.path < $2 ORDER BY us.username";
            on_db!(db, p => sqlx::query_as::<_, User>(sql).bind(path.as_str()).bind(path.upper_bound()).fetch_all(p).await)?
        }
    };
    Ok(rows)
}

/// An account by id.
pub async fn get(db: &Db, id: i64) -> Result<User> {
    let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.code AS unit_code, \
               un.name AS unit_name, un.path AS unit_path, us.disabled, us.created_at \
               FROM users us LEFT JOIN units un ON un.id = us.unit_id WHERE us.id = $1";
    on_db!(db, p => sqlx::query_as::<_, User>(sql).bind(id).fetch_optional(p).await)?.ok_or(StoreError::NotFound)
}

/// An account by user name, if there is one.
pub async fn by_username(db: &Db, username: &Username) -> Result<Option<User>> {
    let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.code AS unit_code, \
               un.name AS unit_name, un.path AS unit_path, us.disabled, us.created_at \
               FROM users us LEFT JOIN units un ON un.id = us.unit_id WHERE us.username = $1";
    Ok(on_db!(db, p => sqlx::query_as::<_, User>(sql).bind(username.as_str()).fetch_optional(p).await)?)
}

/// Enables or disables an account by user name. Disabling ends its sessions and revokes its
/// API tokens.
pub async fn set_disabled(db: &Db, username: &Username, disabled: bool) -> Result<()> {
    let mut tx = db.begin().await?;
    let t = now();
    let id: Option<i64> = crate::on_tx!(&mut tx, c => sqlx::query_scalar(
        "UPDATE users SET disabled = $1, updated_at = $2 WHERE username = $3 RETURNING id")
        .bind(disabled).bind(t).bind(username.as_str()).fetch_optional(c).await)?;
    let id = id.ok_or(StoreError::NotFound)?;
    if disabled {
        end_sessions_and_tokens(&mut tx, id, t).await?;
    }
    tx.commit().await?;
    crate::tokens::changed();
    Ok(())
}

/// Sets a new password hash. Every session of the account ends and every API token is
/// revoked: whoever held the old password may have opened them.
pub async fn set_password_hash(db: &Db, username: &Username, hash: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let t = now();
    let id: Option<i64> = crate::on_tx!(&mut tx, c => sqlx::query_scalar(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3 RETURNING id")
        .bind(hash).bind(t).bind(username.as_str()).fetch_optional(c).await)?;
    let id = id.ok_or(StoreError::NotFound)?;
    end_sessions_and_tokens(&mut tx, id, t).await?;
    tx.commit().await?;
    crate::tokens::changed();
    Ok(())
}

async fn end_sessions_and_tokens(tx: &mut crate::Tx, user_id: i64, t: i64) -> Result<()> {
    crate::on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    crate::on_tx!(tx, c => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(t).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Number of accounts.
pub async fn count(db: &Db) -> Result<i64> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?;
    Ok(n)
}
