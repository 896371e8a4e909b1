//! Assembles the contexts, their databases and consumers, and the HTTP server.

use crate::accounting::ledger::Ledger;
use crate::accounting::mail::Mailer;
use crate::accounting::{self, Accounting};
use crate::analytics::{self, Analytics};
use crate::auth::{self, Auth, token::Tokens};
use crate::clock::SharedClock;
use crate::config::{Config, Deployment};
use crate::db::DbError;
use crate::db::{Db, WriterPriority};
use crate::events::rebuild::{Progress, ReadModel, Rebuilds};
use crate::events::transport::{EventLog, MirrorLog, OutboxLog};
use crate::events::{Consumer, EventSystem, Handler, schema};
use crate::http::{self, AppState};
use crate::lock::DataDirLock;
use crate::tracker::{self, Tracker};
use anyhow::Context as _;
use ates_shared::api::RebuildContext;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Every context's database, opened and migrated, and how this process reads each
/// context's log. In split mode only one context is served, but the others' databases
/// exist too: the tracker's holds the users copy every service checks callers against.
pub struct Databases {
    pub auth: Db,
    pub tracker: Db,
    pub accounting: Db,
    pub analytics: Db,
    /// The one context served (split mode), or `None` for all.
    only: Option<&'static str>,
}

impl Databases {
    pub fn open(dir: &Path) -> anyhow::Result<Databases> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        Ok(Databases {
            auth: Db::open(dir, "auth", &auth::store::migrations())?,
            tracker: Db::open(dir, "tracker", &tracker::store::migrations())?,
            accounting: Db::open(dir, "accounting", &accounting::store::migrations())?,
            analytics: Db::open_with(
                dir,
                "analytics",
                &analytics::store::migrations(),
                WriterPriority::ReadModel,
            )?,
            only: None,
        })
    }

    /// Serves only `only` (split mode) when given.
    pub fn serving(mut self, only: Option<&'static str>) -> Databases {
        self.only = only;
        self
    }

    pub fn db(&self, context: &str) -> &Db {
        match context {
            "auth" => &self.auth,
            "tracker" => &self.tracker,
            "accounting" => &self.accounting,
            _ => &self.analytics,
        }
    }

    fn runs(&self, context: &str) -> bool {
        self.only.is_none_or(|only| only == context)
    }

    /// `source`'s log as this process reads it: the outbox itself when `source` runs here,
    /// else (split mode) what arrived from the broker into the served context's database.
    pub fn log(&self, source: &str) -> Arc<dyn EventLog> {
        match self.only {
            Some(only) if only != source => Arc::new(MirrorLog::new(self.db(only).clone(), source)),
            _ => Arc::new(OutboxLog::new(self.db(source).clone())),
        }
    }

    /// Each context's name and database.
    pub fn contexts(&self) -> Vec<(String, Db)> {
        vec![
            ("auth".into(), self.auth.clone()),
            ("tracker".into(), self.tracker.clone()),
            ("accounting".into(), self.accounting.clone()),
            ("analytics".into(), self.analytics.clone()),
        ]
    }

    /// Who follows whose log: every consumer of the contexts served here. In split mode a
    /// service other than the tracker also keeps a users copy (`<service>.access.auth`, in
    /// its tracker database) to check callers against, as the tracker does with its own.
    pub fn consumers(
        &self,
        clock: &SharedClock,
        ledger: Arc<accounting::ledger::Ledger>,
    ) -> Vec<Consumer> {
        let projection = Arc::new(analytics::projection::Projection);
        let users_copy = Arc::new(tracker::users_copy::UsersCopy);
        let mut consumers = Vec::new();
        let mut add = |context: &str, db: &Db, source: &str, handler: Arc<dyn Handler>| {
            consumers.push(Consumer::new(
                context,
                db.clone(),
                self.log(source),
                handler,
                clock.clone(),
            ))
        };
        match self.only {
            None | Some("tracker") => add("tracker", &self.tracker, "auth", users_copy),
            // e.g. `accounting.access.auth`: the users copy of the accounting service.
            Some(only) => add(&format!("{only}.access"), &self.tracker, "auth", users_copy),
        }
        if self.runs("accounting") {
            add("accounting", &self.accounting, "auth", ledger.clone());
            add("accounting", &self.accounting, "tracker", ledger);
        }
        if self.runs("analytics") {
            add("analytics", &self.analytics, "tracker", projection.clone());
            add("analytics", &self.analytics, "accounting", projection);
        }
        consumers
    }

    /// The read models served here that can be rebuilt from the logs.
    pub fn read_models(&self, ledger: Arc<accounting::ledger::Ledger>) -> Vec<ReadModel> {
        let mut models = Vec::new();
        if self.runs("accounting") {
            models.push(accounting::replay::read_model(
                self.accounting.clone(),
                self.log("auth"),
                self.log("tracker"),
                ledger,
            ));
        }
        if self.runs("analytics") {
            models.push(analytics::read_model(
                self.analytics.clone(),
                self.log("tracker"),
                self.log("accounting"),
            ));
        }
        models
    }
}

/// Every context's service over its database, and the consumers between them: the whole
/// product without its HTTP face. Tests and benchmarks use it directly.
pub struct Contexts {
    pub dbs: Databases,
    pub auth: Auth,
    pub tracker: Tracker,
    pub accounting: Accounting,
    pub analytics: Analytics,
    pub events: EventSystem,
}

impl Contexts {
    pub async fn open(
        config: &Config,
        clock: SharedClock,
        tokens: Arc<Tokens>,
    ) -> anyhow::Result<Contexts> {
        schema::compile_all();
        let dbs = Databases::open(&config.data_dir)?.serving(config.deployment.only());
        let auth = Auth::new(
            dbs.auth.clone(),
            clock.clone(),
            tokens,
            config.hash_cost,
            config.login_limits,
        )?;
        let mailer = Mailer::new(&config.mail, &config.mail_from)?;
        let accounting = Accounting::new(
            dbs.accounting.clone(),
            clock.clone(),
            config.timezone,
            mailer,
        );
        let ledger = Arc::new(Ledger {
            timezone: config.timezone,
            seed: accounting.init().await?,
        });
        let rebuilds = Rebuilds::new(dbs.read_models(ledger.clone()));
        let events = EventSystem::new(dbs.consumers(&clock, ledger), rebuilds, clock.clone());
        let tracker = Tracker::new(dbs.tracker.clone(), clock.clone());
        let analytics = Analytics::new(dbs.analytics.clone(), clock, config.timezone);
        Ok(Contexts {
            dbs,
            auth,
            tracker,
            accounting,
            analytics,
            events,
        })
    }
}

/// Rebuilds read models with no server running (`ates-server rebuild`): takes the data
/// directory's lock, then rebuilds each of `which` in turn; `progress` makes a reporter for
/// each.
pub async fn rebuild_offline(
    data_dir: &Path,
    which: &[RebuildContext],
    progress: impl Fn(RebuildContext) -> Box<dyn Fn(Progress) + Send + Sync>,
) -> anyhow::Result<()> {
    let _lock = DataDirLock::acquire(data_dir)?;
    schema::compile_all();
    // A split service's directory holds its own context, and the others' logs as they
    // arrived from the broker.
    let only = match std::fs::read_to_string(data_dir.join("deployment")) {
        Ok(found) => ["auth", "tracker", "accounting", "analytics"]
            .into_iter()
            .find(|context| *context == found.trim()),
        Err(_) => None,
    };
    let dbs = Databases::open(data_dir)?.serving(only);
    let seed = dbs
        .accounting
        .read(|conn| accounting::store::meta(conn, "pricing_seed").map_err(DbError::from))
        .await?
        .context("accounting has no price seed yet: start the server once before rebuilding")?;
    // The time zone decides billing days of new events only; a rebuild replays decided ones.
    let ledger = Arc::new(Ledger {
        timezone: chrono_tz::UTC,
        seed,
    });
    let models = dbs.read_models(ledger);
    for context in which {
        let model = models
            .iter()
            .find(|m| m.context == *context)
            .with_context(|| format!("no read model `{context}`"))?;
        let report = model.rebuild(progress(*context).as_ref()).await?;
        tracing::info!(%context, events = report.events, "read model rebuilt");
    }
    Ok(())
}

pub struct Application {
    /// Held while the server runs: an offline rebuild refuses to touch the directory.
    _lock: DataDirLock,
    listener: TcpListener,
    state: AppState,
    deliver_events: bool,
    background_tick: std::time::Duration,
    deployment: Deployment,
    /// The databases, for split mode's relay and inbox.
    served: Databases,
}

impl Application {
    /// Opens the data directory, creates the first admin if needed and binds the listener.
    pub async fn build(config: Config, clock: SharedClock) -> anyhow::Result<Application> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
        let lock = DataDirLock::acquire(&config.data_dir)?;
        check_deployment(&config)?;
        // Installed before anything records a metric.
        http::metrics::handle();
        let tokens = Arc::new(tokens(&config)?);
        let contexts = Contexts::open(&config, clock.clone(), tokens.clone()).await?;
        let first_admin = if config.deployment.runs("auth") {
            contexts
                .auth
                .ensure_first_admin(config.admin_password.clone())
                .await?
        } else {
            None
        };
        if let Some(generated) = first_admin {
            println!(
                "Created the admin user `admin` with the password `{generated}` (shown only this once)."
            );
        }
        let Contexts {
            dbs,
            auth,
            tracker,
            accounting,
            analytics,
            events,
        } = contexts;
        let state = AppState::new(http::Handles {
            auth,
            tracker,
            accounting,
            analytics,
            events,
            tokens,
            clock,
            access: Arc::new(tracker::access::Access::new(dbs.tracker.clone())),
            contexts: Arc::new(
                dbs.contexts()
                    .into_iter()
                    .filter(|(name, _)| config.deployment.runs(name))
                    .collect(),
            ),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        });
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        Ok(Application {
            _lock: lock,
            listener,
            state,
            deliver_events: config.deliver_events,
            background_tick: config.background_tick,
            deployment: config.deployment,
            served: dbs,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves HTTP and runs the consumers until `shutdown` completes; then stops accepting,
    /// finishes the requests in flight and lets each consumer finish its batch.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let mut background = JoinSet::new();
        if let (
            true,
            Deployment::Split {
                only,
                broker,
                instance,
            },
        ) = (self.deliver_events, &self.deployment)
        {
            let service = only.as_str();
            if crate::events::broker::PRODUCES.contains(&service) {
                background.spawn(crate::events::broker::relay::run(
                    broker.clone(),
                    self.served.db(service).clone(),
                    stopped.clone(),
                ));
            }
            if !crate::events::broker::sources_of(service).is_empty() {
                background.spawn(crate::events::broker::inbox::run(
                    broker.clone(),
                    service.to_owned(),
                    instance.clone(),
                    self.served.db(service).clone(),
                    stopped.clone(),
                ));
            }
        }
        if self.deliver_events {
            self.state.events.spawn(&mut background, &stopped);
        }
        if self.deployment.runs("tracker") {
            let tracker = self.state.tracker.clone();
            background.spawn(async move {
                if let Err(e) = tracker.finish_interrupted_reshuffle().await {
                    tracing::error!(error = %e, "finishing a reshuffle cut short");
                }
            });
        }
        if self.deliver_events && self.deployment.runs("accounting") {
            background.spawn(self.state.accounting.clone().run_day_closer(
                self.state.events.clone(),
                stopped.clone(),
                self.background_tick,
            ));
            background.spawn(
                self.state
                    .accounting
                    .clone()
                    .run_mailer(stopped.clone(), self.background_tick),
            );
        }
        let router = http::router_for(self.state.clone(), self.deployment.only());
        tracing::info!(address = %self.listener.local_addr()?, "aTES is listening");
        let stop_http = stop.clone();
        // The client's address keys the login throttle.
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                let _ = stop_http.send(true);
            })
            .await
            .context("serving HTTP")?;
        let _ = stop.send(true);
        while background.join_next().await.is_some() {}
        Ok(())
    }
}

/// A data directory belongs to one deployment: a split service's databases hold only its
/// context's data, so starting it embedded (or as another context) would serve empty or
/// foreign data. The first start writes `<data-dir>/deployment`; later starts must match.
/// Split mode also needs the token secret every service shares.
fn check_deployment(config: &Config) -> anyhow::Result<()> {
    let wanted = config.deployment.only().unwrap_or("all");
    let path = config.data_dir.join("deployment");
    match std::fs::read_to_string(&path) {
        Ok(found) => anyhow::ensure!(
            found.trim() == wanted,
            "{} was set up for `{}` but this start asks for `{wanted}`: use another data directory",
            config.data_dir.display(),
            found.trim()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&path, format!("{wanted}\n"))
                .with_context(|| format!("writing {}", path.display()))?
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    if config.deployment != Deployment::Embedded {
        anyhow::ensure!(
            config.jwt_secret.is_some() || config.jwt_keys.is_some(),
            "split mode needs keys every service shares: --jwt-public-key-file (auth also \
             --jwt-private-key-file; see `ates-server keygen`), or one secret with --jwt-secret-file"
        );
    }
    if let Some(keys) = &config.jwt_keys {
        anyhow::ensure!(
            keys.private_pem.is_some() == config.deployment.runs("auth"),
            "the token private key belongs to auth alone: give --jwt-private-key-file to the \
             auth service (or an embedded server) and only --jwt-public-key-file to the others"
        );
    }
    Ok(())
}

/// How tokens are signed and verified: a key pair when given, else the secret.
fn tokens(config: &Config) -> anyhow::Result<Tokens> {
    match &config.jwt_keys {
        Some(keys) => Tokens::ed25519(
            keys.private_pem.as_deref(),
            &keys.public_pem,
            config.token_ttl,
        ),
        None => Ok(Tokens::new(
            jwt_secret(config)?.as_bytes(),
            config.token_ttl,
        )),
    }
}

/// The configured secret, or the one kept in the data directory (created on first start),
/// so tokens stay valid across restarts.
pub(crate) fn jwt_secret(config: &Config) -> anyhow::Result<String> {
    let secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None => kept_jwt_secret(&config.data_dir)?,
    };
    // HS256 with a short secret can be brute-forced offline from any one token.
    anyhow::ensure!(
        secret.len() >= MIN_JWT_SECRET_BYTES,
        "the token secret is {} bytes; use at least {MIN_JWT_SECRET_BYTES} (or leave it unset to have one generated)",
        secret.len()
    );
    Ok(secret)
}

const MIN_JWT_SECRET_BYTES: usize = 32;

/// The secret in `<data-dir>/jwt_secret`, created on first use readable by the owner only
/// (created with mode 0600, never widened first and narrowed after).
fn kept_jwt_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("jwt_secret");
    if let Ok(secret) = std::fs::read_to_string(&path)
        && !secret.trim().is_empty()
    {
        return Ok(secret.trim().to_owned());
    }
    let secret: String = {
        use rand::RngExt;
        rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(48)
            .map(char::from)
            .collect()
    };
    crate::backup::write_private(&path, secret.as_bytes())?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_token_secret_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path().to_path_buf());
        config.jwt_secret = None;
        let first = jwt_secret(&config).unwrap();
        assert!(first.len() >= MIN_JWT_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(jwt_secret(&config).unwrap(), first);
    }

    fn split(only: crate::config::ContextName) -> Deployment {
        Deployment::Split {
            only,
            broker: crate::events::broker::Broker {
                url: "amqp://127.0.0.1:5672".into(),
                namespace: "unused".into(),
            },
            instance: only.as_str().into(),
        }
    }

    #[test]
    fn a_data_directory_serves_the_deployment_it_was_set_up_for() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path().to_path_buf());
        config.deployment = split(crate::config::ContextName::Tracker);
        check_deployment(&config).unwrap();
        check_deployment(&config).unwrap();
        config.deployment = Deployment::Embedded;
        let error = check_deployment(&config).unwrap_err().to_string();
        assert!(error.contains("set up for `tracker`"), "{error}");
    }

    #[test]
    fn only_auth_may_hold_the_token_private_key() {
        let (private, public) = Tokens::generate_ed25519().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path().to_path_buf());
        config.jwt_secret = None;
        config.jwt_keys = Some(crate::config::TokenKeys {
            public_pem: public.into_bytes(),
            private_pem: Some(private.into_bytes()),
        });
        config.deployment = split(crate::config::ContextName::Accounting);
        let error = check_deployment(&config).unwrap_err().to_string();
        assert!(error.contains("auth alone"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.deployment = split(crate::config::ContextName::Auth);
        check_deployment(&config).unwrap();
        assert!(tokens(&config).is_ok());
    }

    #[test]
    fn a_short_token_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path().to_path_buf());
        config.jwt_secret = Some("secret".into());
        let error = jwt_secret(&config).unwrap_err().to_string();
        assert!(error.contains("at least 32"), "{error}");
    }
}
