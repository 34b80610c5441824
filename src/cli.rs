//! The `welzijnshuis` command line.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use entities::{Role, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::auth::{Tokens, parse_ttl};
use crate::config::Config;
use crate::db::Database;
use crate::startup::{Application, DemoData, shutdown_signal};

#[derive(Parser, Debug)]
#[command(
    name = "welzijnshuis",
    version,
    about = "GraphQL service of a welfare house and its partner network"
)]
pub struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (the default). Migrates first; on the default SQLite file the demo network
    /// is loaded into an empty database.
    Serve {
        /// Load the demo network into an empty database, whatever the database.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Migrate, load the demo network into an empty database, and exit.
    Demo {
        /// Clients to generate, with ten referrals each (for benchmarks: 10000); the contract's
        /// demo of 48 clients and 64 referrals when not given. Deterministic.
        #[arg(long)]
        scale: Option<usize>,
    },
    /// Print a signed access token for an active user.
    Token {
        /// The user's e-mail address.
        email: String,
        /// How long the token is valid: 30m, 8h, 2d …
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: chrono::Duration,
    },
    /// The social map as Open Referral HSDS 3.0 JSON.
    Socialmap {
        #[command(subcommand)]
        action: SocialmapAction,
    },
    /// Print the GraphQL schema (SDL); with --role, as that role sees it through introspection.
    Schema {
        /// PUBLIC, PARTNER, INTAKE, CASE_WORKER, ANALYST or ADMIN.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
}

#[derive(Subcommand, Debug)]
enum SocialmapAction {
    /// Load services from an HSDS 3.0 JSON file (an array, or {"services": [...]}; `-` reads
    /// standard input): every record checked, all or nothing, idempotent by HSDS id. Read as a
    /// stream: memory does not grow with the file.
    Import { file: std::path::PathBuf },
    /// Print the social map as HSDS 3.0 JSON that `import` reads back.
    Export,
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init(cli.config.log_format);
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    config.check()?;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => serve(&config, demo).await,
        Command::Migrate => {
            Database::connect(&config.database_url).await?.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo { scale } => demo(&config, scale).await,
        Command::Token { email, ttl } => token(&config, &email, ttl).await,
        Command::Socialmap { action } => socialmap(&config, action).await,
        Command::Schema { role: None } => {
            print!("{}", schema::sdl());
            Ok(())
        }
        Command::Schema { role: Some(role) } => {
            print!("{}", schema::sdl_for(role).await);
            Ok(())
        }
    }
}

async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    if config.uses_development_secret() {
        tracing::warn!(
            "WELZIJNSHUIS_JWT_SECRET is not set: using the development key; anyone can sign tokens"
        );
    }
    let demo_data = if demo || config.is_sqlite() { DemoData::IfEmpty } else { DemoData::No };
    let app = Application::build(config, demo_data).await?;
    let addr = app.local_addr();
    println!("welzijnshuis listens on http://{addr}/ (GraphiQL) and http://{addr}/graphql");
    println!("a token for a demo user: welzijnshuis token onthaal@welzijnshuis.test");
    println!("  (or: cargo run --release -- token medewerker@caw.test)");
    app.run_until(shutdown_signal()).await
}

async fn demo(config: &Config, scale: Option<usize>) -> anyhow::Result<()> {
    use sea_orm::PaginatorTrait;
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    if entities::organisation::Entity::find().count(&db.conn).await? > 0 {
        anyhow::bail!("the database is not empty: the demo network loads into an empty one only");
    }
    let scale = scale.map_or(crate::demo::Scale::CONTRACT, crate::demo::Scale::clients);
    let started = std::time::Instant::now();
    let summary = crate::demo::load_scaled(&db.conn, chrono::Utc::now(), scale).await?;
    println!(
        "demo network loaded in {:.1} s: {} organisations, {} services, {} clients, {} referrals",
        started.elapsed().as_secs_f64(),
        summary.organisations,
        summary.services,
        summary.clients,
        summary.referrals
    );
    Ok(())
}

async fn token(config: &Config, email: &str, ttl: chrono::Duration) -> anyhow::Result<()> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    if config.is_sqlite() {
        // As `serve` would: asking for a token before the first start still finds the demo users.
        crate::demo::load_if_empty(&db.conn).await.context("loading the demo network")?;
    }
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .filter(user::Column::Active.eq(true))
        .one(&db.conn)
        .await
        .context("looking up the user")?
        .with_context(|| format!("no active user with e-mail {email}"))?;
    if config.uses_development_secret() {
        eprintln!("warning: signed with the development key (WELZIJNSHUIS_JWT_SECRET is not set)");
    }
    let tokens = Tokens::hs256(config.secret().expose()).with_max_ttl(config.jwt_max_ttl);
    println!("{}", tokens.issue(user.id, ttl)?);
    Ok(())
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(&text.to_uppercase()).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("'{text}': expected one of {}", roles.join(", "))
    })
}

async fn socialmap(config: &Config, action: SocialmapAction) -> anyhow::Result<()> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    match action {
        SocialmapAction::Import { file } => {
            let summary = if file.as_os_str() == "-" {
                crate::socialmap::import(&db.conn, std::io::stdin()).await?
            } else {
                let opened =
                    std::fs::File::open(&file).with_context(|| format!("reading {}", file.display()))?;
                crate::socialmap::import(&db.conn, opened).await?
            };
            println!("imported: {} new, {} updated", summary.created, summary.updated);
        }
        SocialmapAction::Export => {
            let services = crate::socialmap::export(&db.conn).await?;
            println!("{}", serde_json::to_string_pretty(&services)?);
        }
    }
    Ok(())
}
