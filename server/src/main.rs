use anyhow::Context as _;
use ates_server::app::Databases;
use ates_server::auth::Auth;
use ates_server::auth::password::HashCost;
use ates_server::auth::token::Tokens;
use ates_server::clock::{SharedClock, SystemClock};
use ates_server::config::{Cli, Command, RebuildTarget, UserCommand};
use ates_server::events::rebuild::Progress;
use ates_server::paging::PageRequest;
use ates_server::{Application, Config};
use ates_shared::api::CreateUser;
use clap::Parser;
use std::sync::Arc;

fn main() -> anyhow::Result<()> {
    ates_server::memory::tune_allocator();
    // Blocking work is bounded where it starts (8 reads per database, 4 password checks);
    // this caps the pool itself, so no burst of requests can grow the thread count.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
        .context("starting the async runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let clock: SharedClock = Arc::new(SystemClock);
    match cli.command {
        None => serve(cli.serve.try_into()?, clock).await,
        Some(Command::Serve(args)) => serve((*args).try_into()?, clock).await,
        Some(Command::User(command)) => user(command, clock).await,
        Some(Command::Rebuild { what, data }) => rebuild(what, &data.data_dir).await,
        Some(Command::Keygen { out }) => {
            let (private, public) = ates_server::auth::token::Tokens::generate_ed25519()?;
            std::fs::create_dir_all(&out)?;
            for name in ["jwt-private.pem", "jwt-public.pem"] {
                anyhow::ensure!(
                    !out.join(name).exists(),
                    "{} already exists: keygen never replaces keys (tokens signed with them would stop working)",
                    out.join(name).display()
                );
            }
            ates_server::backup::write_private(&out.join("jwt-private.pem"), private.as_bytes())?;
            std::fs::write(out.join("jwt-public.pem"), public)?;
            println!(
                "wrote {0}/jwt-private.pem (auth only) and {0}/jwt-public.pem (every service)",
                out.display()
            );
            Ok(())
        }
        Some(Command::Gateway(args)) => {
            let upstreams = ates_server::gateway::Upstreams::new(&args.upstreams)?;
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .map_err(|e| anyhow::anyhow!("binding {}: {e}", args.listen))?;
            ates_server::gateway::serve(listener, upstreams, shutdown_signal()).await
        }
        Some(Command::Backup { to, data }) => {
            let manifest = ates_server::backup::backup(&data.data_dir, &to)?;
            print_copies("backed up", &manifest, &to);
            Ok(())
        }
        Some(Command::Restore {
            from,
            replace,
            data,
        }) => {
            let manifest = ates_server::backup::restore(&from, &data.data_dir, replace)?;
            print_copies("restored", &manifest, &data.data_dir);
            Ok(())
        }
    }
}

fn print_copies(what: &str, manifest: &ates_server::backup::Manifest, dir: &std::path::Path) {
    for db in &manifest.databases {
        println!(
            "{what} {}.db: {} bytes, {} events in its log",
            db.name, db.bytes, db.outbox_head
        );
    }
    println!(
        "{what} the backup of {} into {}",
        manifest.created_at.to_rfc3339(),
        dir.display()
    );
}

/// `ates-server rebuild`: a progress bar on a terminal, a line per 10% otherwise.
async fn rebuild(what: RebuildTarget, data_dir: &std::path::Path) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let on_terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    ates_server::app::rebuild_offline(data_dir, &what.contexts(), |context| {
        if on_terminal {
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix:>10} [{bar:40}] {pos}/{len} events {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(context.to_string());
            Box::new(move |p: Progress| {
                bar.set_length(p.total);
                bar.set_position(p.processed);
                if p.processed == p.total && p.total > 0 {
                    bar.tick();
                }
            })
        } else {
            let last_tenth = std::sync::atomic::AtomicU64::new(u64::MAX);
            Box::new(move |p: Progress| {
                let tenth = (p.processed * 10).checked_div(p.total).unwrap_or(10);
                if last_tenth.swap(tenth, std::sync::atomic::Ordering::Relaxed) != tenth {
                    eprintln!("{context}: {}/{} events", p.processed, p.total);
                }
            })
        }
    })
    .await?;
    println!(
        "rebuilt {} in {:.1} s",
        what.contexts()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn serve(config: Config, clock: SharedClock) -> anyhow::Result<()> {
    let app = Application::build(config, clock).await?;
    tokio::spawn(ates_server::memory::return_freed_memory());
    app.run_until(shutdown_signal()).await
}

async fn user(command: UserCommand, clock: SharedClock) -> anyhow::Result<()> {
    let data_dir = match &command {
        UserCommand::Add { data, .. } | UserCommand::List { data } => data.data_dir.clone(),
    };
    let dbs = Databases::open(&data_dir)?;
    // Operators never issue tokens from here: the signing key is not needed.
    let tokens = Arc::new(Tokens::new(b"unused", chrono::Duration::minutes(1)));
    let auth = Auth::new(
        dbs.auth,
        clock,
        tokens,
        HashCost::RECOMMENDED,
        ates_server::auth::login_guard::LoginLimits::DEFAULT,
    )?;
    match command {
        UserCommand::Add {
            username,
            password,
            full_name,
            email,
            role,
            ..
        } => {
            let user = auth
                .create_user(CreateUser {
                    username,
                    password,
                    full_name,
                    email,
                    role,
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("creating the user")?;
            println!(
                "created {} ({}) with id {}",
                user.username, user.role, user.id
            );
        }
        UserCommand::List { .. } => {
            let mut cursor = None;
            loop {
                let page = PageRequest::parse(Some(500), cursor.as_deref())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let users = auth
                    .list_users(page)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                for u in &users.items {
                    let state = if u.active { "active" } else { "deactivated" };
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        u.id, u.username, u.role, u.email, state
                    );
                }
                match users.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
