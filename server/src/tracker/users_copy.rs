//! The tracker keeps its own copy of the users, built from auth's events: who exists, their
//! role and whether they are active decide who may be given a task.

use super::store::{self, UserCopy};
use crate::db::Tx;
use crate::events::{Envelope, Handler};
use ates_shared::events::auth::UserUpdated;

pub struct UsersCopy;

impl Handler for UsersCopy {
    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()> {
        // Both events carry the whole record in the same shape, at any version.
        let Some(u) = UserUpdated::from_envelope(event)? else {
            return Ok(());
        };
        let user = UserCopy {
            id: u.user_id,
            username: u.username,
            role: u.role,
            active: u.active,
            version: u.version,
            access_version: u.access_version,
        };
        store::upsert_user(tx, &user)?;
        Ok(())
    }
}
