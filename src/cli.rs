//! The `welzijnshuis` command line.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use entities::{Role, client, user};
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
        /// demo of 48 clients and 68 referrals when not given. Deterministic.
        #[arg(long)]
        scale: Option<usize>,
    },
    /// Print a signed access token for an active user.
    Token {
        /// The user's e-mail address.
        #[arg(required_unless_present = "client", conflicts_with = "client")]
        email: Option<String>,
        /// A citizen's own token (role CLIENT) for the client with this national register number.
        #[arg(long, value_name = "NATIONAL_REGISTER_NUMBER")]
        client: Option<String>,
        /// How long the token is valid: 30m, 8h, 2d …
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: chrono::Duration,
    },
    /// The people who sign in.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// The social map as Open Referral HSDS 3.0 JSON.
    Socialmap {
        #[command(subcommand)]
        action: SocialmapAction,
    },
    /// A client's file.
    Client {
        #[command(subcommand)]
        action: ClientAction,
    },
    /// The retention rule (`WELZIJNSHUIS_RETENTION_YEARS`): erase the clients whose closed
    /// trajectory lay still that long.
    Retention {
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// Print the GraphQL schema (SDL); with --role, as that role sees it through introspection.
    Schema {
        /// PUBLIC, PARTNER, INTAKE, CASE_WORKER, ANALYST or ADMIN.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
}

#[derive(Subcommand, Debug)]
enum UserAction {
    /// Give a person access, as ADMIN's `addUser` does. On a database without a welfare house,
    /// `--new-welfare-house "Welzijnshuis Roeselare"` creates the house and, with `--role ADMIN`,
    /// its first administrator.
    Add {
        /// Their e-mail address: what they sign in with.
        email: String,
        #[arg(long)]
        name: String,
        /// INTAKE, CASE_WORKER, ANALYST or ADMIN (the welfare house's staff), PARTNER.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The id of their organisation.
        #[arg(long, required_unless_present = "new_welfare_house", conflicts_with = "new_welfare_house")]
        organisation: Option<uuid::Uuid>,
        /// Create the welfare house, with this name, and add them to it.
        #[arg(long)]
        new_welfare_house: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum ClientAction {
    /// Print everything held about a client as JSON (their right of access), as they download
    /// it themselves from `GET /me/export`; the export is recorded in their access log.
    Export { id: uuid::Uuid },
}

#[derive(Subcommand, Debug)]
enum RetentionAction {
    /// Erase every client due, each in a transaction of its own (audited, without personal
    /// data); prints the id of each client erased, then how many. Stopped halfway, the next run
    /// does the rest.
    Run {
        /// Print which clients would be erased, and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
enum SocialmapAction {
    /// Load services from HSDS 3.0 JSON (one service, an array, {"services": [...]}, an
    /// organization with its services, or a page of the API, {"contents": [...]}; `-` reads
    /// standard input), or from another house's HSDS API:
    /// every record checked, all or nothing, idempotent by HSDS id. Read as a stream: memory
    /// does not grow with the file.
    Import {
        /// A file, `-`, or the URL of another house's HSDS API (`https://…/hsds`): its services
        /// are read page by page and imported as one file.
        file: std::path::PathBuf,
        /// Services asked for per page of an HSDS API (1 to 100).
        #[arg(long, default_value_t = crate::socialmap::federate::PER_PAGE)]
        per_page: u32,
    },
    /// Print the social map as HSDS 3.0 JSON that `import` reads back (an array of services in
    /// the nested form of the standard's `schema/compiled/service.json`).
    Export {
        /// As the public sees it (`GET /hsds/services`): a confidential location's street and
        /// coordinates left out.
        #[arg(long)]
        public: bool,
    },
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
        Command::Token { email: Some(email), ttl, .. } => token(&config, &email, ttl).await,
        Command::Token { client: Some(number), ttl, .. } => client_token(&config, &number, ttl).await,
        Command::Token { .. } => unreachable!("clap requires an e-mail address or --client"),
        Command::Socialmap { action } => socialmap(&config, action).await,
        Command::Client { action: ClientAction::Export { id } } => export_client(&config, id).await,
        Command::Retention { action: RetentionAction::Run { dry_run } } => retention(&config, dry_run).await,
        Command::User { action: UserAction::Add { email, name, role, organisation, new_welfare_house } } => {
            add_user(&config, &email, &name, role, organisation, new_welfare_house).await
        }
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

/// The database as `serve` would have it: migrated and, on SQLite, with the demo loaded, so that
/// asking for a token before the first start still finds the demo's people.
async fn ready_database(config: &Config) -> anyhow::Result<Database> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    if config.is_sqlite() {
        crate::demo::load_if_empty(&db.conn).await.context("loading the demo network")?;
    }
    Ok(db)
}

/// `token --client`: the citizen's own token, for the client with this national register number
/// (not erased).
async fn client_token(config: &Config, number: &str, ttl: chrono::Duration) -> anyhow::Result<()> {
    let number = resolvers::national_number::NationalRegisterNumber::parse(number)
        .map_err(|why| anyhow::anyhow!("'{number}': {why}"))?;
    let db = ready_database(config).await?;
    let client = client::Entity::find()
        .filter(client::Column::NationalRegisterNumber.eq(number.as_str()))
        .filter(resolvers::policy::clients_who_may_sign_in())
        .one(&db.conn)
        .await
        .context("looking up the client")?
        .with_context(|| format!("no client with national register number {}", number.as_str()))?;
    if config.uses_development_secret() {
        eprintln!("warning: signed with the development key (WELZIJNSHUIS_JWT_SECRET is not set)");
    }
    let tokens = Tokens::hs256(config.secret().expose()).with_max_ttl(config.jwt_max_ttl);
    println!("{}", tokens.issue_for_client(client.id, ttl)?);
    Ok(())
}

async fn token(config: &Config, email: &str, ttl: chrono::Duration) -> anyhow::Result<()> {
    let db = ready_database(config).await?;
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .filter(resolvers::policy::users_who_may_act())
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

/// `user add`: one transaction, audited as the API's `addUser` is.
async fn add_user(
    config: &Config,
    email: &str,
    name: &str,
    role: Role,
    organisation: Option<uuid::Uuid>,
    new_welfare_house: Option<String>,
) -> anyhow::Result<()> {
    use resolvers::mutation::{OrganisationInput, add_user, create_organisation};
    use sea_orm::TransactionTrait;
    let said = |e: resolvers::ApiError| anyhow::anyhow!(e.message());
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    let txn = db.conn.begin().await?;
    let command = "welzijnshuis user add";
    let organisation = match (organisation, new_welfare_house) {
        (Some(id), _) => id,
        (None, Some(_)) if role != Role::Admin => {
            anyhow::bail!("the welfare house's first person is its administrator: --role ADMIN")
        }
        (None, Some(house)) => {
            let input = OrganisationInput {
                name: house,
                kind: resolvers::types::OrganisationKind::WelfareHouse,
                kind_label: None,
                is_network_partner: false,
                description: None,
                website: None,
                email: None,
                phone: None,
            };
            let created = create_organisation(&txn, input).await.map_err(|e| {
                anyhow::anyhow!("{}: use --organisation <id> to add someone to it", e.message())
            })?;
            resolvers::audit::record_command(&txn, command, "CREATE", "Organisation", created.id)
                .await
                .map_err(said)?;
            created.id
        }
        (None, None) => {
            anyhow::bail!("name the organisation (--organisation <id>) or --new-welfare-house <name>")
        }
    };
    let user = add_user(&txn, name, email, role, organisation).await.map_err(said)?;
    resolvers::audit::record_command(&txn, command, "CREATE", "User", user.id).await.map_err(said)?;
    txn.commit().await?;
    println!(
        "added {} ({}) to organisation {organisation}; user id {}\nsign in: `welzijnshuis token {}` (or through the identity provider)",
        user.email,
        user.role.as_str(),
        user.id,
        user.email
    );
    Ok(())
}

/// `client export`: the document `GET /me/export` hands the client, audited as a command.
async fn export_client(config: &Config, id: uuid::Uuid) -> anyhow::Result<()> {
    use resolvers::export::{ExportedBy, export};
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    let document = export(&db.conn, id, ExportedBy::Command("welzijnshuis client export")).await.map_err(
        |e| match e {
            resolvers::ApiError::NotFound(_) => {
                anyhow::anyhow!("no client with id {id} (unknown, merged or erased)")
            }
            other => anyhow::anyhow!(other.message()),
        },
    )?;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}

/// `retention run [--dry-run]`.
async fn retention(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    use crate::retention;
    let years = config.retention_years;
    let db = Database::connect(&config.database_url).await?;
    if dry_run {
        let due = retention::due(&db.conn, years).await?;
        for id in &due {
            println!("would erase {id}");
        }
        println!(
            "retention ({years} years): {} client(s) would be erased; dry run, nothing written",
            due.len()
        );
        return Ok(());
    }
    db.migrate().await?;
    let writes = resolvers::writes::WriteQueue::for_database(&db.conn);
    let outcome = retention::run(&db.conn, &writes, years, || false, |id| println!("erased {id}")).await?;
    println!(
        "retention ({years} years): {} client(s) erased, {} left alone (changed meanwhile)",
        outcome.erased.len(),
        outcome.skipped
    );
    if !outcome.failed.is_empty() {
        anyhow::bail!("{} client(s) could not be erased (see the log); run again", outcome.failed.len());
    }
    Ok(())
}

async fn socialmap(config: &Config, action: SocialmapAction) -> anyhow::Result<()> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    match action {
        SocialmapAction::Import { file, per_page } => {
            let source = file.to_str().unwrap_or_default();
            let imported = if crate::socialmap::federate::is_url(source) {
                crate::socialmap::federate::import_from(&db.conn, source, per_page).await
            } else if file.as_os_str() == "-" {
                crate::socialmap::import(&db.conn, std::io::stdin()).await
            } else {
                let opened =
                    std::fs::File::open(&file).with_context(|| format!("reading {}", file.display()))?;
                crate::socialmap::import(&db.conn, opened).await
            };
            // Out at once: a reader stuck on a stalled input would otherwise keep the process
            // (and its connection) alive; the database rolls back what the import began.
            let summary = imported.unwrap_or_else(|err| {
                eprintln!("error: {err:#}");
                std::process::exit(1)
            });
            let mut said = format!("imported: {} new, {} updated", summary.created, summary.updated);
            if summary.unchanged > 0 {
                said.push_str(&format!(" ({} of them unchanged)", summary.unchanged));
            }
            if summary.skipped > 0 {
                said.push_str(&format!(
                    ", {} skipped (this house's own entries, or another feed's)",
                    summary.skipped
                ));
            }
            println!("{said}");
        }
        SocialmapAction::Export { public } => {
            let reveal = if public {
                crate::socialmap::Reveal::for_caller(&resolvers::Caller::public())
            } else {
                crate::socialmap::Reveal::EVERYTHING
            };
            let services = crate::socialmap::export(&db.conn, reveal).await?;
            println!("{}", serde_json::to_string_pretty(&services)?);
        }
    }
    Ok(())
}
