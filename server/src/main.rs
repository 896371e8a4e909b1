use anyhow::Context as _;
use ates_server::app::Databases;
use ates_server::auth::Auth;
use ates_server::auth::password::HashCost;
use ates_server::auth::token::Tokens;
use ates_server::clock::{SharedClock, SystemClock};
use ates_server::config::{Cli, Command, UserCommand};
use ates_server::paging::PageRequest;
use ates_server::{Application, Config};
use ates_shared::api::CreateUser;
use clap::Parser;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let clock: SharedClock = Arc::new(SystemClock);
    match cli.command {
        None => serve(cli.serve.into(), clock).await,
        Some(Command::Serve(args)) => serve(args.into(), clock).await,
        Some(Command::User(command)) => user(command, clock).await,
    }
}

async fn serve(config: Config, clock: SharedClock) -> anyhow::Result<()> {
    let app = Application::build(config, clock).await?;
    app.run_until(shutdown_signal()).await
}

async fn user(command: UserCommand, clock: SharedClock) -> anyhow::Result<()> {
    let data_dir = match &command {
        UserCommand::Add { data, .. } | UserCommand::List { data } => data.data_dir.clone(),
    };
    let dbs = Databases::open(&data_dir)?;
    // Operators never issue tokens from here: the signing key is not needed.
    let tokens = Arc::new(Tokens::new(b"unused", chrono::Duration::minutes(1)));
    let auth = Auth::new(dbs.auth, clock, tokens, HashCost::RECOMMENDED);
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
