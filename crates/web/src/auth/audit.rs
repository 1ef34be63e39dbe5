//! The audit log of what signed-in users change.

use ngoso_store::users::Principal;
use ngoso_store::{Db, audit};

/// Writes an audit entry of a change made by `p`; a failure to write is logged, not shown
/// (the change itself is made).
pub async fn log(db: &Db, p: &Principal, action: &str, object_type: &str, id: i64, detail: &str) {
    let id = id.to_string();
    let ev = audit::Event { user_id: Some(p.id), action, object_type, object_id: &id, detail };
    if let Err(e) = audit::record(db, ev).await {
        tracing::error!(error = %e, "could not write the audit log");
    }
}
