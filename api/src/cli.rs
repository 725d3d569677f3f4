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
    /// Add N verified practitioners with realistic profiles at real towns, and print how
    /// to see suggestions as one of them.
    SeedDemo {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// The same seed gives the same population.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The least share of practitioners who work alone left with nobody of their
        /// profession within 50 km (some are moved out to the country to make it so).
        #[arg(long, default_value_t = 0.1)]
        rural_share: f64,
    },
    /// Run a mentorship matching round; without --dry-run each proposal becomes a pending
    /// request emailed to the mentor.
    MatchRound {
        #[arg(long)]
        dry_run: bool,
        /// exact (the most value, the most isolated first), stable (no blocking pairs) or
        /// greedy (first come, first served).
        #[arg(long, default_value = "exact")]
        solver: String,
    },
    /// Sign with a new key from now on (when JWT_SECRET is not set). The previous key still
    /// verifies access tokens for 15 minutes and unsubscribe links for a year; with
    /// --revoke every older key is deleted and nothing it signed works any more.
    RotateSigningKey {
        #[arg(long)]
        revoke: bool,
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
        Command::SeedDemo {
            count,
            seed,
            rural_share,
        } => seed_demo(config, count, seed, rural_share).await?,
        Command::MatchRound { dry_run, solver } => match_round(config, dry_run, &solver).await?,
        Command::RotateSigningKey { revoke } => rotate_signing_key(config, revoke).await?,
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
                    role: crate::domain::role::Role::Admin,
                    email_verified: true,
                },
            )
            .await?;
            println!("administrator {} created ({})", email.as_str(), user.id);
        }
    }
    Ok(())
}

async fn seed_demo(
    config: Config,
    count: usize,
    seed: u64,
    rural_share: f64,
) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&rural_share) {
        anyhow::bail!("--rural-share must be from 0 to 1");
    }
    let db = connect_and_migrate(&config).await?;
    let started = std::time::Instant::now();
    let seeded = crate::seed::seed(&db, count, seed, rural_share).await?;
    let user = users::find_by_email(
        &db,
        &Email::parse(&seeded.first_email).map_err(anyhow::Error::msg)?,
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("the first demo practitioner is missing"))?;
    let token = crate::auth::JwtKeys::load(&config, &db)
        .await?
        .issue_access(user.id, user.role.as_str())?;
    println!(
        "seeded {} practitioners in {:.1} s",
        seeded.count,
        started.elapsed().as_secs_f64()
    );
    let (as_made, now, lone) = seeded.isolated;
    let percent = |n: usize| 100.0 * n as f64 / lone.max(1) as f64;
    println!(
        "{lone} work alone; {now} of them ({:.1} %) have nobody of their profession within \
         50 km ({as_made}, {:.1} %, before some were moved to the country)",
        percent(now),
        percent(as_made)
    );
    println!(
        "{} circles with posts and a meeting; {} practitioners wait for a circle round",
        seeded.circles, seeded.waiting_for_a_circle
    );
    println!(
        "sign in as {} with password {} or, for the next 15 minutes:",
        seeded.first_email,
        crate::seed::DEMO_PASSWORD
    );
    println!(
        "curl -s -H 'Authorization: Bearer {token}' '{}/api/v1/me/suggestions?kind=peer'",
        config.public_url
    );
    Ok(())
}

async fn match_round(config: Config, dry_run: bool, solver: &str) -> anyhow::Result<()> {
    let solver: crate::service::admin::RoundSolver =
        serde_json::from_value(serde_json::json!(solver))
            .map_err(|_| anyhow::anyhow!("--solver must be exact, stable or greedy"))?;
    let db = connect_and_migrate(&config).await?;
    let matching = std::sync::Arc::new(crate::index::Matching::load(&db).await?);
    let core = crate::service::Core {
        jwt: crate::auth::JwtKeys::load(&config, &db).await?,
        metrics: crate::metrics::Metrics::default(),
        passwords: crate::auth::PasswordPool::new(config.password_hash_workers),
        outbox_wake: std::sync::Arc::new(tokio::sync::Notify::new()),
        index: matching,
        reads: db.clone(),
        db,
        config,
    };
    let result = crate::service::admin::run_round(&core, dry_run, solver)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    eprintln!(
        "{} proposals, {} mentees unmatched, total score {:.3}, solved in {:.1} ms{}",
        result.proposals.len(),
        result.unmatched_mentee_ids.len(),
        result.total_score,
        result.elapsed_ms,
        if dry_run {
            " (dry run: nothing was created)"
        } else {
            ""
        }
    );
    Ok(())
}

async fn rotate_signing_key(config: Config, revoke: bool) -> anyhow::Result<()> {
    if config.jwt_secret.is_some() {
        anyhow::bail!(
            "JWT_SECRET is set, so it is the only signing key: rotate it by changing JWT_SECRET"
        );
    }
    let db = connect_and_migrate(&config).await?;
    // Creates the first key (from a legacy data/jwt_secret if there is one) if none exists.
    auth::JwtKeys::load(&config, &db).await?;
    let rotated = crate::store::signing_keys::rotate(&db, revoke).await?;
    println!("signing with key {} from now on", rotated.current.kid);
    if revoke {
        println!("every older key is deleted: nothing it signed is accepted any more");
    } else {
        for kid in &rotated.previous {
            println!(
                "key {kid} is retired: it verifies access tokens for 15 more minutes and \
                 unsubscribe links for a year"
            );
        }
    }
    Ok(())
}
