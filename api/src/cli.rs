//! The `alongside` command line.

use std::io::BufRead;

use clap::{Parser, Subcommand};

use crate::{
    auth,
    config::Config,
    domain::{DisplayName, Email, Password},
    startup::{connect_and_migrate, Application},
    store::users::{self, NewUser},
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "alongside",
    version,
    about = "Peers and mentors for allied-health practitioners who work alone"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create an administrator, or make an existing account one. The password comes from
    /// ALONGSIDE_ADMIN_PASSWORD or the first line of standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    telemetry::init(&config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config).await?;
            tracing::info!(port = app.port(), "Alongside is serving");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            connect_and_migrate(&config).await?;
            println!("migrations applied");
        }
        Command::CreateAdmin { email } => create_admin(config, &email).await?,
    }
    Ok(())
}

async fn create_admin(config: Config, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
    let raw = match std::env::var("ALONGSIDE_ADMIN_PASSWORD") {
        Ok(password) if !password.is_empty() => password,
        _ => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let password = Password::parse(raw).map_err(|e| anyhow::anyhow!("the password {e}"))?;
    let hash = auth::hash_password_blocking(password.expose().to_owned()).await?;
    let db = connect_and_migrate(&config).await?;
    match users::find_by_email(&db, &email).await? {
        Some(user) => {
            users::promote_to_admin(&db, user.id, hash).await?;
            println!("{} is now an administrator ({})", email.as_str(), user.id);
        }
        None => {
            let name = DisplayName::parse("Administrator").map_err(anyhow::Error::msg)?;
            let user = users::insert(
                &db,
                NewUser {
                    email: &email,
                    password_hash: hash,
                    display_name: &name,
                    role: "admin",
                    email_verified: true,
                },
            )
            .await?;
            println!("administrator {} created ({})", email.as_str(), user.id);
        }
    }
    Ok(())
}
