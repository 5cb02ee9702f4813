//! `chotomoni`: serve, migrate, staff, seed.
mod backup;
mod config;
mod limits;
mod master_key;
mod verify;

use anyhow::{Context, Result};
use chotomoni_domain::Role;
use chotomoni_services::{seed, Services, Settings};
use chotomoni_sms::{FileOutbox, SmsSender, Twilio, TwilioConfig};
use chotomoni_storage::Db;
use chotomoni_web::{logging::Masking, AppState, WebConfig};
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "chotomoni",
    version,
    about = "Orders, proof and customer data for a small shop"
)]
struct Cli {
    /// TOML configuration file (also CHOTOMONI_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where the SQLite database, media and master key live by default.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrates first).
    Serve {
        #[arg(long)]
        listen: Option<String>,
        /// Seed a believable demo shop on first start and print a staff login.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Load bulk data for benchmarks.
    Seed {
        #[arg(long)]
        orders: usize,
    },
    /// Copy the database (one consistent snapshot, without customers' keys)
    /// and a manifest of the media store into a new folder under OUT; the
    /// keys go to the key vault.
    Backup { out: PathBuf },
    /// Load the backup in FROM into an empty database, take the keys from
    /// the key vault, and re-apply every erasure made since the backup.
    Restore { from: PathBuf },
    /// Check, offline, that FILE is exactly the proof RECEIPT describes, as
    /// logged in the signed proof log. Exits 1 if it is not.
    Verify {
        file: std::path::PathBuf,
        receipt: std::path::PathBuf,
        /// The log's public key (text, or a file holding it), as published at
        /// /.well-known/chotomoni-log-key. Without it the receipt's own key is used.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add a staff member; the password is read from standard input.
    Add {
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "role must be admin, support, packer or courier".into())
}

fn main() -> Result<std::process::ExitCode> {
    let cli = Cli::parse();
    if let Command::Verify { file, receipt, key } = &cli.command {
        let ok = verify::run(file, receipt, key.as_deref())?;
        return Ok(if ok {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        });
    }
    let listen = match &cli.command {
        Command::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides {
        listen,
        data_dir: cli.data_dir.clone(),
    };
    let config = config::load(cli.config.as_deref(), &overrides, &|k| {
        std::env::var(k).ok()
    })?;
    init_logging(&config.log);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli.command, config))?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{filter},sqlx=warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Masking(std::io::stderr))
        .init();
}

async fn run(command: Command, config: Config) -> Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    if let Command::Restore { from } = &command {
        return restore(&config, from).await;
    }
    let services = open(&config).await?;
    match command {
        Command::Migrate => {
            println!(
                "migrations applied to {}",
                config::redact_url(&config.database_url)
            );
        }
        Command::Staff {
            command: StaffCommand::Add { username, role },
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            let id = services.add_staff(&username, password, role).await?;
            println!(
                "staff {} added with role {} (id {})",
                username.trim().to_lowercase(),
                role,
                id.0
            );
        }
        Command::Seed { orders } => {
            let started = std::time::Instant::now();
            seed::seed_bulk(&services, orders, |done| {
                if done % 100_000 == 0 || done == orders {
                    eprintln!("  {done} orders");
                }
            })
            .await?;
            println!(
                "seeded {orders} orders in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Command::Backup { out } => {
            let vault = services
                .key_vault()
                .cloned()
                .context("backup needs the key vault (key_vault_dir)")?;
            let w = backup::backup(services.db(), &services.proofs().blobs, &vault, &out).await?;
            let rows: u64 = w.manifest.tables.iter().map(|t| t.rows).sum();
            println!(
                "backup written to {}: {} tables, {rows} rows, {} media objects ({} bytes) listed; {} new keys copied to the key vault",
                w.dir.display(),
                w.manifest.tables.len(),
                w.manifest.media_objects,
                w.manifest.media_bytes,
                w.keys_added_to_vault
            );
        }
        Command::Restore { .. } => unreachable!("restore runs before the database is opened"),
        Command::Serve { demo, .. } => serve(services, &config, demo).await?,
        Command::Verify { .. } => unreachable!("verify runs before any configuration is read"),
    }
    Ok(())
}

async fn open(config: &Config) -> Result<Services> {
    let db = Db::connect(&config.database_url, config.max_connections)
        .await
        .with_context(|| format!("connecting to {}", config::redact_url(&config.database_url)))?;
    db.migrate().await.context("migrating the database")?;
    let populated = chotomoni_storage::installation::is_populated(&mut *db.conn().await?).await?;
    let master = master_key::load(config, populated)?;
    let settings = Settings {
        technical_retention_days: config.technical_retention_days,
        session_days: config.session_days,
        erasure_review_days: config.erasure_review_days,
        export_link_days: config.export_link_days,
        limits: config.rate_limits.clone(),
        export_quotas: config.limits.exports.clone(),
        jobs: config.jobs.clone(),
        claims: config.claims,
        proof_days: config.proof_days,
        fraud: config.fraud,
    };
    let blobs = chotomoni_storage::blobs::BlobStore::open(&config.blob_config()?)
        .context("opening the media store")?;
    let media = chotomoni_services::MediaConfig {
        blobs,
        staging_dir: config.upload_dir.clone(),
        settings: chotomoni_services::proofs::ProofSettings {
            max_upload_bytes: config.max_upload_bytes,
            upload_expiry_hours: config.upload_expiry_hours,
            body_idle_timeout: config.limits.upload_idle,
            quotas: config.limits.uploads.clone(),
            inspections_at_once: config.limits.inspections_at_once,
            ..Default::default()
        },
        key_vault: Some(
            chotomoni_storage::blobs::BlobStore::open(&config.key_vault_config()?)
                .context("opening the key vault")?,
        ),
    };
    let services = Services::new(db, master.keyring(), settings, media)?;
    services.check_master_key().await?;
    services.ensure_first_policy().await?;
    let mut services = match sms_sender(config)? {
        Some(sms) => services.with_sms(sms),
        None => services,
    };
    if let Some(url) = &config.public_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            anyhow::bail!("public_url must start with https:// (or http://), not {url:?}");
        }
        services = services.with_public_url(url);
    }
    if let Some(mail) = mailer(config)? {
        services = services.with_mail(mail);
    }
    Ok(services
        .with_couriers(config.couriers.set()?)
        .with_gateways(config.payments.set()?))
}

/// The mail transport the configuration names, if any.
fn mailer(config: &Config) -> Result<Option<Arc<dyn chotomoni_mail::Mailer>>> {
    use chotomoni_mail::{FileOutbox as MailOutbox, Smtp, SmtpConfig};
    match config.mail_transport.as_deref().map(str::trim) {
        None => Ok(None),
        Some("smtp") => {
            let need = |v: &Option<String>, what: &str| {
                v.clone()
                    .filter(|v| !v.trim().is_empty())
                    .with_context(|| format!("mail_transport = \"smtp\" needs {what}"))
            };
            let smtp = Smtp::new(SmtpConfig {
                url: need(&config.smtp_url, "smtp_url")?,
                password: config.smtp_password.clone(),
                from: need(&config.mail_from, "mail_from")?,
            })?;
            Ok(Some(Arc::new(smtp)))
        }
        Some("outbox") => {
            let from = config
                .mail_from
                .clone()
                .unwrap_or_else(|| "Chotomoni <chotomoni@localhost>".into());
            Ok(Some(Arc::new(MailOutbox::new(
                mail_outbox_dir(config),
                &from,
            )?)))
        }
        Some(other) => {
            anyhow::bail!("mail_transport must be \"smtp\" or \"outbox\", not {other:?}")
        }
    }
}

fn mail_outbox_dir(config: &Config) -> PathBuf {
    config.data_dir.join("mail-outbox")
}

/// The SMS transport the configuration names, if any.
fn sms_sender(config: &Config) -> Result<Option<Arc<dyn SmsSender>>> {
    match config.sms_provider.as_deref().map(str::trim) {
        None => Ok(None),
        Some("twilio") => {
            let need = |v: &Option<String>, what: &str| {
                v.clone()
                    .filter(|v| !v.trim().is_empty())
                    .with_context(|| format!("sms_provider = \"twilio\" needs {what}"))
            };
            let twilio = Twilio::new(TwilioConfig {
                base_url: config.sms_base_url.clone(),
                account_sid: need(&config.sms_account_sid, "sms_account_sid")?,
                auth_token: need(&config.sms_auth_token, "CHOTOMONI_SMS_AUTH_TOKEN")?,
                from: need(&config.sms_from, "sms_from")?,
            })?;
            Ok(Some(Arc::new(twilio)))
        }
        Some("file") => Ok(Some(Arc::new(FileOutbox::new(outbox_path(config))))),
        Some(other) => anyhow::bail!("sms_provider must be \"twilio\" or \"file\", not {other:?}"),
    }
}

fn outbox_path(config: &Config) -> PathBuf {
    config.data_dir.join("sms-outbox.txt")
}

/// Loads a backup into the configured (empty) database, then re-applies
/// every erasure in the key vault's journal.
async fn restore(config: &Config, from: &std::path::Path) -> Result<()> {
    let manifest = backup::read_manifest(from)?;
    let db = Db::connect(&config.database_url, config.max_connections)
        .await
        .with_context(|| format!("connecting to {}", config::redact_url(&config.database_url)))?;
    db.migrate().await.context("migrating the database")?;
    backup::check_empty(&db).await?;
    backup::load(&db, from, &manifest).await?;
    db.pool.close().await;
    let services = open(config).await?;
    let vault = services
        .key_vault()
        .cloned()
        .context("restore needs the key vault (key_vault_dir)")?;
    let r = backup::finish(&services, from, &vault, &services.proofs().blobs).await?;
    println!(
        "restored {} rows from {} into {}; {} keys from the key vault ({} customers without one); {} erasures made since the backup re-applied; {} media objects of the backup's manifest are no longer in the store",
        manifest.tables.iter().map(|t| t.rows).sum::<u64>(),
        from.display(),
        config::redact_url(&config.database_url),
        r.keys_restored,
        r.keys_missing,
        r.erasures_reapplied,
        r.media_missing
    );
    Ok(())
}

async fn serve(mut services: Services, config: &Config, demo: bool) -> Result<()> {
    // A database restored by other means than `restore` must not serve
    // anyone erased since its copy was made.
    let reapplied = services.reapply_erasures().await?;
    if reapplied > 0 {
        tracing::warn!(
            reapplied,
            "erasures from the key vault's journal re-applied before serving"
        );
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    if demo {
        demo_shop(&services, &config.data_dir).await?;
        if services.sms().is_none() {
            let path = outbox_path(config);
            services = services.with_sms(Arc::new(FileOutbox::new(&path)));
            println!(
                "Demo SMS (registration codes) are written to {}, not sent.",
                path.display()
            );
        }
    }
    match (&config.sms_provider, &services.sms()) {
        (Some(p), _) if p == "file" => println!(
            "SMS are written to {}, not sent (sms_provider = \"file\").",
            outbox_path(config).display()
        ),
        (_, None) => println!("No SMS provider configured: customer registration is unavailable."),
        _ => {}
    }
    if config.mail_transport.as_deref().map(str::trim) == Some("outbox") {
        println!(
            "Email is written to {}, not sent (mail_transport = \"outbox\").",
            mail_outbox_dir(config).display()
        );
    }
    if services.public_url().is_none() && (services.mail().is_some() || services.sms().is_some()) {
        println!("No public_url configured: marketing messages cannot be sent (their opt-out links need it).");
    }
    // Background work: the recurring jobs declared, then this server's
    // workers claim whatever is due, from here or from other servers.
    services
        .declare_schedule()
        .await
        .context("declaring the recurring jobs")?;
    // Courier reports received before a stop and not applied yet.
    services.apply_received_reports();
    let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for _ in 0..config.jobs.workers {
        let mut stopped = workers_stopped.clone();
        let worker = services.worker();
        workers.push(tokio::spawn(worker.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })));
    }
    println!("Chotomoni is running at http://{addr}/");
    let audit = services.audit().clone();
    let state = AppState {
        services,
        config: WebConfig {
            secure_cookies: config.secure_cookies,
            trust_forwarded: config.trust_forwarded,
            trusted_proxies: config.trusted_proxies.clone(),
            timeouts: config.limits.connections,
            station_video: chotomoni_web::pages::station::StationVideo {
                width: config.station_video_width,
                height: config.station_video_height,
                bits_per_second: config.station_video_bits_per_second,
            },
            twilio_auth_token: config
                .sms_auth_token
                .clone()
                .map(chotomoni_web::api::webhooks::TwilioAuthToken::new),
        },
    };
    chotomoni_web::serve(listener, state, shutdown_signal()).await?;
    // A job still running is dropped; its lease runs out and another
    // server (or this one, restarted) takes it over.
    let _ = stop_workers.send(true);
    for w in workers {
        let _ = w.await;
    }
    // Views recorded in the last moments are still waiting to be written.
    audit.flush().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

/// Seeds the demo shop once, and prints a staff login for it.
async fn demo_shop(services: &Services, data_dir: &std::path::Path) -> Result<()> {
    let marker = data_dir.join("demo-login.txt");
    if !marker.exists() {
        eprintln!("seeding the demo shop (300 orders)…");
        seed::seed_demo(services, 60, 300).await?;
        let password: String = {
            use rand::Rng;
            let mut rng = rand::thread_rng();
            (0..16)
                .map(|_| char::from(b"abcdefghjkmnpqrstuvwxyz23456789"[rng.gen_range(0..31)]))
                .collect()
        };
        services.add_staff("admin", &password, Role::Admin).await?;
        master_key::write_private(&marker, &format!("username: admin\npassword: {password}\n"))?;
    }
    print!(
        "Demo staff login ({}):\n{}",
        marker.display(),
        std::fs::read_to_string(&marker)?
    );
    Ok(())
}
