//! The auth context: the one identity service. It owns users and passwords, issues signed
//! tokens, and publishes every change to a user (`UserCreated`, `UserUpdated`) so the other
//! contexts keep their own copies.

pub mod login_guard;
pub mod password;
pub mod routes;
pub mod store;
pub mod token;
pub(crate) mod validate;

use crate::clock::SharedClock;
use crate::db::{Db, DbError};
use crate::error::{Error, Result};
use crate::events::Outbox;
use crate::paging::PageRequest;
use ates_shared::Role;
use ates_shared::api::{CreateUser, LoginResponse, Page, UpdateUser, User};
use ates_shared::events::auth::{UserCreated, UserUpdated};
use login_guard::{LoginGuard, LoginLimits};
use password::HashCost;
use std::net::IpAddr;
use std::sync::Arc;
use token::Tokens;
use uuid::Uuid;

#[derive(Clone)]
pub struct Auth {
    db: Db,
    clock: SharedClock,
    tokens: Arc<Tokens>,
    cost: HashCost,
    guard: Arc<LoginGuard>,
}

impl Auth {
    pub fn new(
        db: Db,
        clock: SharedClock,
        tokens: Arc<Tokens>,
        cost: HashCost,
        limits: LoginLimits,
    ) -> anyhow::Result<Auth> {
        Ok(Auth {
            db,
            clock,
            tokens,
            cost,
            guard: Arc::new(LoginGuard::new(limits, cost)?),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Checks the password and issues a token. Every failure (unknown user, wrong password,
    /// deactivated user) gets the same 401 after the same work: an unknown username is
    /// checked against a dummy hash. Attempts are throttled per username and per `client`
    /// address, and only a few password checks run at once.
    pub async fn login(
        &self,
        username: String,
        password: String,
        client: IpAddr,
    ) -> Result<LoginResponse> {
        self.guard.admit_or_hold(&username, client).await?;
        let found = self
            .db
            .read(move |conn| store::by_username(conn, &username).map_err(DbError::from))
            .await?;
        let hash = match &found {
            Some((_, hash, _)) => hash.clone(),
            None => self.guard.dummy_hash().to_owned(),
        };
        let matches = self
            .guard
            .check(move || password::verify(&password, &hash))
            .await?;
        let user = match found {
            Some((user, _, access_version)) if matches && user.active => (user, access_version),
            _ => {
                metrics::counter!("ates_login_failures_total").increment(1);
                return Err(Error::Unauthorized(
                    "wrong username or password, or the account is deactivated".into(),
                ));
            }
        };
        let (user, access_version) = user;
        let (token, expires_at) = self.tokens.issue(
            user.id,
            &user.username,
            user.role,
            access_version,
            self.clock.now(),
        )?;
        Ok(LoginResponse {
            token,
            expires_at,
            user,
        })
    }

    pub async fn create_user(&self, new: CreateUser) -> Result<User> {
        let new = validate::new_user(new)?;
        let (password, cost) = (new.password.clone(), self.cost);
        let hash = self
            .guard
            .check(move || password::hash(&password, cost))
            .await??;
        let now = self.clock.now();
        self.db
            .write(move |tx| {
                if store::username_taken(tx, &new.username)? {
                    return Err(Error::conflict(
                        "username_taken",
                        format!("`username` `{}` is taken", new.username),
                    ));
                }
                let user = User {
                    id: Uuid::now_v7(),
                    username: new.username,
                    full_name: new.full_name,
                    email: new.email,
                    role: new.role,
                    active: true,
                };
                // The shell's `user add` may have taken the name since the check above.
                store::insert(tx, &user, &hash, now).map_err(|e| match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::ConstraintViolation) => Error::conflict(
                        "username_taken",
                        format!("`username` `{}` is taken", user.username),
                    ),
                    _ => e.into(),
                })?;
                Outbox::publish(tx, user_created(&user, store::Versions::FIRST), now)?;
                Ok(user)
            })
            .await
    }

    pub async fn get_user(&self, id: Uuid) -> Result<User> {
        self.db
            .read_inline(move |conn| store::by_id(conn, id).map_err(DbError::from))
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user with id {id}")))
    }

    pub async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        let rows = self
            .db
            .read(move |conn| store::list(conn, page.after, page.fetch()).map_err(DbError::from))
            .await?;
        Ok(page.page(rows, |u| u.id))
    }

    /// Changes role, name, e-mail or the active flag. The last active admin can be neither
    /// demoted nor deactivated: someone must be able to run the company.
    pub async fn update_user(&self, id: Uuid, change: UpdateUser) -> Result<User> {
        let change = validate::user_change(change)?;
        let now = self.clock.now();
        self.db
            .write(move |tx| {
                let mut user = store::by_id(tx, id)?
                    .ok_or_else(|| Error::NotFound(format!("no user with id {id}")))?;
                let versions = store::versions(tx, id)?
                    .ok_or_else(|| Error::NotFound(format!("no user with id {id}")))?;
                let standing_before = (user.role, user.active);
                let was_active_admin = user.role == Role::Admin && user.active;
                if let Some(role) = change.role {
                    user.role = role;
                }
                if let Some(full_name) = change.full_name {
                    user.full_name = full_name;
                }
                if let Some(email) = change.email {
                    user.email = email;
                }
                if let Some(active) = change.active {
                    user.active = active;
                }
                let still_active_admin = user.role == Role::Admin && user.active;
                if was_active_admin && !still_active_admin && store::active_admins(tx)? <= 1 {
                    return Err(Error::conflict(
                        "last_admin",
                        "this is the last active admin: make another admin first",
                    ));
                }
                let versions = versions.next((user.role, user.active) != standing_before);
                store::update(tx, &user, versions, now)?;
                Outbox::publish(tx, UserUpdated::from(user_created(&user, versions)), now)?;
                Ok(user)
            })
            .await
    }

    /// On the very first start (no users at all) creates the admin `admin`. Returns the
    /// password when it had to be generated, so the caller can print it once.
    pub async fn ensure_first_admin(&self, configured: Option<String>) -> Result<Option<String>> {
        let empty = self
            .db
            .read(|conn| store::count(conn).map_err(DbError::from))
            .await?
            == 0;
        if !empty {
            return Ok(None);
        }
        let generated = configured.is_none();
        let password = configured.unwrap_or_else(generate_password);
        self.create_user(CreateUser {
            username: "admin".into(),
            password: password.clone(),
            full_name: "Administrator".into(),
            email: "admin@localhost".into(),
            role: Role::Admin,
        })
        .await?;
        Ok(generated.then_some(password))
    }
}

fn user_created(user: &User, versions: store::Versions) -> UserCreated {
    UserCreated {
        version: versions.version,
        access_version: versions.access_version,
        user_id: user.id,
        username: user.username.clone(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        role: user.role,
        active: user.active,
    }
}

fn generate_password() -> String {
    use rand::RngExt;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}
