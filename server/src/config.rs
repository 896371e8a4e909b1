//! Configuration: flags and `ATES_*` environment variables, with defaults for a single box.

use crate::accounting::mail::MailConfig;
use crate::auth::login_guard::LoginLimits;
use crate::auth::password::HashCost;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ates-server",
    version,
    about = "aTES: task tracker and payroll server"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve` options, also accepted without the word `serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server with every context (the default).
    Serve(Box<ServeArgs>),
    /// Manage users from the shell (works while the server runs).
    #[command(subcommand)]
    User(UserCommand),
    /// Rebuild read models from the event logs with the server stopped (refuses to run
    /// while a server holds the data directory). A rebuild decides nothing again: the
    /// same prices, billing days and payouts, and no e-mail is sent.
    Rebuild {
        /// `accounting`, `analytics` or `all`.
        what: RebuildTarget,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Copy every database into a new directory while the server runs (SQLite's online
    /// backup: each copy is one consistent snapshot, and the server is never blocked).
    Backup {
        /// A new or empty directory for the copy.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Split mode's front door: the one URL clients use. Forwards each route to the
    /// service that owns it and merges what spans services (event status, dead letters,
    /// the change stream, health).
    Gateway(GatewayArgs),
    /// Write a new Ed25519 key pair for tokens: `jwt-private.pem` (mode 0600, for auth
    /// only) and `jwt-public.pem` (for every service).
    Keygen {
        /// The directory to write both files into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup in place, with the server stopped.
    Restore {
        /// A directory written by `ates-server backup`.
        #[arg(long)]
        from: PathBuf,
        /// Overwrite the databases the data directory already holds.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        data: DataDirArg,
    },
}

#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// Address to listen on.
    #[arg(long, env = "ATES_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// `CONTEXT=URL` for each of auth, tracker, accounting and analytics, e.g.
    /// `--upstream auth=http://127.0.0.1:8081`.
    #[arg(long = "upstream", value_parser = parse_upstream, required = true)]
    pub upstreams: Vec<(ContextName, String)>,
}

fn parse_upstream(text: &str) -> Result<(ContextName, String), String> {
    use clap::ValueEnum as _;
    let (context, url) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: give CONTEXT=URL, e.g. auth=http://127.0.0.1:8081"))?;
    let context = ContextName::from_str(context, true).map_err(|_| {
        format!("`{context}` is not a context: auth, tracker, accounting or analytics")
    })?;
    Ok((context, url.to_owned()))
}

/// What `ates-server rebuild` rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RebuildTarget {
    Accounting,
    Analytics,
    All,
}

impl RebuildTarget {
    pub fn contexts(self) -> Vec<ates_shared::api::RebuildContext> {
        use ates_shared::api::RebuildContext;
        match self {
            RebuildTarget::Accounting => vec![RebuildContext::Accounting],
            RebuildTarget::Analytics => vec![RebuildContext::Analytics],
            RebuildTarget::All => RebuildContext::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add {
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        username: String,
        /// The password; read from ATES_NEW_USER_PASSWORD when not given.
        #[arg(long, env = "ATES_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        full_name: String,
        #[arg(long)]
        email: String,
        /// worker, manager, accountant or admin.
        #[arg(long, default_value = "worker")]
        role: ates_shared::Role,
    },
    /// List users.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// Where the databases and the mail spool live.
    #[arg(long, env = "ATES_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataDirArg,
    /// Address to listen on.
    #[arg(long, env = "ATES_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Password of the `admin` user created on the very first start (generated and
    /// printed once when unset).
    #[arg(long, env = "ATES_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Secret that signs bearer tokens (at least 32 bytes); generated and kept in
    /// `<data-dir>/jwt_secret` when unset. Prefer `--jwt-secret-file`: flags show in `ps`.
    #[arg(long, env = "ATES_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// A file holding the token secret (its first line).
    #[arg(long, env = "ATES_JWT_SECRET_FILE", conflicts_with = "jwt_secret")]
    pub jwt_secret_file: Option<PathBuf>,
    /// Sign tokens with Ed25519 instead of a shared secret: the public key (PEM), given to
    /// every service; they can then verify tokens but not mint them. See `keygen`.
    #[arg(long, env = "ATES_JWT_PUBLIC_KEY_FILE", conflicts_with_all = ["jwt_secret", "jwt_secret_file"])]
    pub jwt_public_key_file: Option<PathBuf>,
    /// The private key (PKCS#8 PEM) matching `--jwt-public-key-file`: auth's alone.
    #[arg(
        long,
        env = "ATES_JWT_PRIVATE_KEY_FILE",
        requires = "jwt_public_key_file"
    )]
    pub jwt_private_key_file: Option<PathBuf>,
    /// A file holding the first admin's password (its first line).
    #[arg(
        long,
        env = "ATES_ADMIN_PASSWORD_FILE",
        conflicts_with = "admin_password"
    )]
    pub admin_password_file: Option<PathBuf>,
    /// How long a login token stays valid, in minutes.
    #[arg(long, env = "ATES_TOKEN_TTL_MINUTES", default_value_t = 720)]
    pub token_ttl_minutes: i64,
    /// The company's time zone (IANA name): billing days end at its midnight.
    #[arg(long, env = "ATES_TIMEZONE", default_value = "UTC")]
    pub timezone: chrono_tz::Tz,
    /// Send payout e-mails through SMTP instead of the spool directory `<data-dir>/mail`:
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required` or `smtps://user:pass@host:465`.
    #[arg(long, env = "ATES_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Login attempts allowed per minute for one username (then 429 with `Retry-After`).
    #[arg(long, env = "ATES_LOGIN_ATTEMPTS_PER_USERNAME", default_value_t = LoginLimits::DEFAULT.per_username_per_minute)]
    pub login_attempts_per_username: u32,
    /// Login attempts allowed per minute from one client address.
    #[arg(long, env = "ATES_LOGIN_ATTEMPTS_PER_ADDRESS", default_value_t = LoginLimits::DEFAULT.per_address_per_minute)]
    pub login_attempts_per_address: u32,
    /// Password checks run at once (each Argon2 check holds ~19 MiB); more wait briefly,
    /// then get 503.
    #[arg(long, env = "ATES_PASSWORD_CHECKS", default_value_t = LoginLimits::DEFAULT.concurrent_checks)]
    pub password_checks: usize,
    /// Split mode: run only this context (its routes, database, relay and consumers);
    /// events travel through RabbitMQ at `--amqp-url`. Without it every context runs here.
    #[arg(long, env = "ATES_ONLY", requires = "amqp_url")]
    pub only: Option<ContextName>,
    /// The broker for split mode, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    #[arg(long, env = "ATES_AMQP_URL", hide_env_values = true, requires = "only")]
    pub amqp_url: Option<String>,
    /// A proxy (the split-mode gateway) whose `X-Forwarded-For` names the real client, for
    /// the per-address login throttle; repeat for several. Only for a service reachable
    /// through that proxy alone: anyone else could claim any address.
    #[arg(
        long = "trusted-proxy",
        env = "ATES_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Split mode: a second analytics reader with a queue of its own, named so (its own
    /// data directory too). Only analytics: accounting decides money, exactly once.
    #[arg(long, env = "ATES_INSTANCE", requires = "only")]
    pub instance: Option<String>,
    /// The prefix of every exchange and queue split mode uses on the broker.
    #[arg(long, env = "ATES_AMQP_NAMESPACE", default_value = "ates")]
    pub amqp_namespace: String,
    /// Sender of payout e-mails.
    #[arg(
        long,
        env = "ATES_MAIL_FROM",
        default_value = "aTES payroll <payroll@localhost>"
    )]
    pub mail_from: String,
}

/// A bounded context, as `--only` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ContextName {
    Auth,
    Tracker,
    Accounting,
    Analytics,
}

impl ContextName {
    pub fn as_str(self) -> &'static str {
        match self {
            ContextName::Auth => "auth",
            ContextName::Tracker => "tracker",
            ContextName::Accounting => "accounting",
            ContextName::Analytics => "analytics",
        }
    }
}

/// Which contexts run in this process, and how their events travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// Every context in one process; consumers read each other's outbox directly.
    Embedded,
    /// One context; its events leave, and other contexts' events arrive, through RabbitMQ.
    Split {
        only: ContextName,
        broker: crate::events::broker::Broker,
        /// Names this process's queue: the context's name unless `--instance` says.
        instance: String,
    },
}

impl Deployment {
    /// The one context this process runs, in split mode.
    pub fn only(&self) -> Option<&'static str> {
        match self {
            Deployment::Embedded => None,
            Deployment::Split { only, .. } => Some(only.as_str()),
        }
    }

    /// Whether `context` runs in this process.
    pub fn runs(&self, context: &str) -> bool {
        self.only().is_none_or(|only| only == context)
    }
}

/// The queue name of a split-mode process: its context's, or a second reader's own.
fn instance_name(only: ContextName, instance: Option<String>) -> anyhow::Result<String> {
    let Some(instance) = instance else {
        return Ok(only.as_str().to_owned());
    };
    anyhow::ensure!(
        only == ContextName::Analytics,
        "--instance is for a second analytics reader only: accounting decides money and must run once"
    );
    anyhow::ensure!(
        !instance.is_empty()
            && instance.len() <= 64
            && instance
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "--instance `{instance}`: use lowercase letters, digits and `-`"
    );
    anyhow::ensure!(
        instance == "analytics"
            || !["auth", "tracker", "accounting", "events", "control", "dead"]
                .contains(&instance.as_str())
                && !instance.starts_with("relay"),
        "--instance `{instance}` names a queue or exchange aTES uses itself; choose another"
    );
    Ok(instance)
}

#[derive(Debug, Clone)]
pub struct TokenKeys {
    pub public_pem: Vec<u8>,
    pub private_pem: Option<Vec<u8>>,
}

/// What the application needs to start, however it was configured.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub admin_password: Option<String>,
    pub jwt_secret: Option<String>,
    /// Ed25519 keys (PEM) instead of the secret: the public one, and auth's private one.
    pub jwt_keys: Option<TokenKeys>,
    pub token_ttl: chrono::Duration,
    pub hash_cost: HashCost,
    pub login_limits: LoginLimits,
    /// Run the consumers. Off only in tests that need events to wait in the outbox.
    pub deliver_events: bool,
    pub timezone: chrono_tz::Tz,
    pub mail: MailConfig,
    pub mail_from: String,
    /// How often ended days are looked for and due e-mails sent.
    pub background_tick: std::time::Duration,
    pub deployment: Deployment,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Config {
    /// A configuration for tests: a random port, cheap password hashing.
    pub fn for_tests(data_dir: PathBuf) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("loopback address"),
            admin_password: Some("admin-password".into()),
            jwt_secret: Some("test-secret-of-at-least-32-bytes!".into()),
            jwt_keys: None,
            token_ttl: chrono::Duration::hours(1),
            hash_cost: HashCost::CHEAP_FOR_TESTS,
            // Every test logs in from 127.0.0.1; the throttle tests set their own limits.
            login_limits: LoginLimits {
                per_username_per_minute: 10_000,
                per_address_per_minute: 100_000,
                ..LoginLimits::DEFAULT
            },
            deliver_events: true,
            timezone: chrono_tz::UTC,
            mail: MailConfig::Spool(data_dir.join("mail")),
            data_dir,
            mail_from: "aTES payroll <payroll@localhost>".into(),
            background_tick: std::time::Duration::from_millis(50),
            deployment: Deployment::Embedded,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The first line of a secret file, so secrets need not travel in flags (visible in `ps`).
fn read_secret_file(path: &std::path::Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading the {what} file {}: {e}", path.display()))?;
    let secret = text.lines().next().unwrap_or_default().trim().to_owned();
    anyhow::ensure!(
        !secret.is_empty(),
        "the {what} file {} is empty",
        path.display()
    );
    Ok(secret)
}

impl TryFrom<ServeArgs> for Config {
    type Error = anyhow::Error;

    fn try_from(mut args: ServeArgs) -> anyhow::Result<Self> {
        if let Some(path) = &args.jwt_secret_file {
            args.jwt_secret = Some(read_secret_file(path, "token secret")?);
        }
        if let Some(path) = &args.admin_password_file {
            args.admin_password = Some(read_secret_file(path, "admin password")?);
        }
        let read_key = |path: &PathBuf| {
            std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("reading the token key {}: {e}", path.display()))
        };
        let jwt_keys = match &args.jwt_public_key_file {
            None => None,
            Some(public) => Some(TokenKeys {
                public_pem: read_key(public)?,
                private_pem: args
                    .jwt_private_key_file
                    .as_ref()
                    .map(read_key)
                    .transpose()?,
            }),
        };
        let mail = match args.smtp_url {
            Some(url) => MailConfig::Smtp { url },
            None => MailConfig::Spool(args.data.data_dir.join("mail")),
        };
        Ok(Config {
            listen: args.listen,
            data_dir: args.data.data_dir,
            admin_password: args.admin_password,
            jwt_secret: args.jwt_secret,
            jwt_keys,
            token_ttl: chrono::Duration::minutes(args.token_ttl_minutes.max(1)),
            hash_cost: HashCost::RECOMMENDED,
            login_limits: LoginLimits {
                per_username_per_minute: args.login_attempts_per_username,
                per_address_per_minute: args.login_attempts_per_address,
                concurrent_checks: args.password_checks,
                ..LoginLimits::DEFAULT
            },
            deliver_events: true,
            timezone: args.timezone,
            mail,
            mail_from: args.mail_from,
            background_tick: std::time::Duration::from_secs(1),
            trusted_proxies: args.trusted_proxies,
            deployment: match (args.only, args.amqp_url) {
                (Some(only), Some(url)) => Deployment::Split {
                    only,
                    broker: crate::events::broker::Broker {
                        url,
                        namespace: args.amqp_namespace,
                    },
                    instance: instance_name(only, args.instance)?,
                },
                _ => Deployment::Embedded,
            },
        })
    }
}
