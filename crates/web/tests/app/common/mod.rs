//! Spawns the real application on a random port over a fresh database.
#![allow(dead_code)]
pub mod couriers;
pub mod payments;
pub mod privacy;
pub mod tus;
use chotomoni_crypto::MasterKey;
use chotomoni_domain::Role;
use chotomoni_services::{Services, Settings};
use chotomoni_storage::Db;
use chotomoni_testkit::{Engine, TestDb};
use chotomoni_web::{AppState, WebConfig};
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub services: Services,
    pub http: reqwest::Client,
    pub db: std::sync::Arc<TestDb>,
    /// Where this server keeps proof media, for a restarted twin.
    pub blob_config: chotomoni_storage::blobs::BlobConfig,
    pub settings: Settings,
    pub proof_settings: chotomoni_services::proofs::ProofSettings,
    /// The SMS stand-in the server sends through (`spawn_with_sms`).
    pub sms: Option<chotomoni_sms::stand_in::StandIn>,
}

pub async fn spawn(engine: Engine) -> TestApp {
    spawn_with(engine, Settings::default()).await
}

pub async fn spawn_with(engine: Engine, settings: Settings) -> TestApp {
    spawn_inner(engine, settings, false, WebConfig::default()).await
}

/// Where a test server keeps proof media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// A folder beside the test database.
    Local,
    /// A fresh bucket on the S3-compatible test server.
    S3,
}

pub async fn spawn_with_media(engine: Engine, media: Media) -> TestApp {
    spawn_full(
        engine,
        (Settings::default(), Default::default()),
        false,
        WebConfig::default(),
        media,
        Transports::default(),
    )
    .await
}

/// The server with its limits (quotas, timeouts) as given.
pub async fn spawn_with_limits(
    engine: Engine,
    settings: Settings,
    proofs: chotomoni_services::proofs::ProofSettings,
    web: WebConfig,
) -> TestApp {
    let transports = Transports::default();
    spawn_full(
        engine,
        (settings, proofs),
        false,
        web,
        Media::Local,
        transports,
    )
    .await
}

/// The server behind a trusted TLS-terminating proxy.
pub async fn spawn_behind_proxy(engine: Engine) -> TestApp {
    let web = WebConfig {
        secure_cookies: false,
        trust_forwarded: true,
        ..WebConfig::default()
    };
    spawn_inner(engine, Settings::default(), false, web).await
}

/// The server sending SMS with the real Twilio client to a local stand-in
/// of Twilio's Messages API.
pub async fn spawn_with_sms(engine: Engine) -> TestApp {
    spawn_inner(engine, Settings::default(), true, WebConfig::default()).await
}

/// The server with these settings and web configuration.
pub async fn spawn_configured(
    engine: Engine,
    settings: Settings,
    web: WebConfig,
    with_sms: bool,
) -> TestApp {
    spawn_inner(engine, settings, with_sms, web).await
}

/// The server sending SMS through `sender`.
pub async fn spawn_with_sender(
    engine: Engine,
    sender: std::sync::Arc<dyn chotomoni_sms::SmsSender>,
) -> TestApp {
    let transports = Transports {
        sms: Some(sender),
        ..Transports::default()
    };
    spawn_with_transports(engine, Settings::default(), transports).await
}

/// SMS and mail transports a test gives the server.
#[derive(Default)]
pub struct Transports {
    pub sms: Option<std::sync::Arc<dyn chotomoni_sms::SmsSender>>,
    pub mail: Option<std::sync::Arc<dyn chotomoni_mail::Mailer>>,
    pub couriers: Option<chotomoni_services::couriers::CourierSet>,
    pub gateways: Option<chotomoni_services::payments::GatewaySet>,
}

/// The server with these settings, sending through `transports`.
pub async fn spawn_with_transports(
    engine: Engine,
    settings: Settings,
    transports: Transports,
) -> TestApp {
    spawn_full(
        engine,
        (settings, Default::default()),
        false,
        WebConfig::default(),
        Media::Local,
        transports,
    )
    .await
}

/// The server sending SMS to the Twilio stand-in and booking with `couriers`.
pub async fn spawn_with_couriers(
    engine: Engine,
    couriers: chotomoni_services::couriers::CourierSet,
) -> TestApp {
    spawn_full(
        engine,
        (Settings::default(), Default::default()),
        true,
        WebConfig::default(),
        Media::Local,
        Transports {
            couriers: Some(couriers),
            ..Transports::default()
        },
    )
    .await
}

async fn spawn_inner(
    engine: Engine,
    settings: Settings,
    with_sms: bool,
    web: WebConfig,
) -> TestApp {
    spawn_full(
        engine,
        (settings, Default::default()),
        with_sms,
        web,
        Media::Local,
        Transports::default(),
    )
    .await
}

async fn spawn_full(
    engine: Engine,
    (settings, proof_settings): (Settings, chotomoni_services::proofs::ProofSettings),
    with_sms: bool,
    web: WebConfig,
    media: Media,
    transports: Transports,
) -> TestApp {
    let t = std::sync::Arc::new(TestDb::fresh(engine).await);
    let blob_config = match media {
        Media::Local => chotomoni_storage::blobs::BlobConfig::Local {
            root: t.dir.path().join("media"),
        },
        Media::S3 => chotomoni_testkit::s3_bucket().await,
    };
    let mut services = services_over(
        &t,
        &blob_config,
        MasterKey::generate().keyring(),
        (settings.clone(), proof_settings.clone()),
    )
    .await;
    let mut sms = None;
    if with_sms {
        let stand_in = chotomoni_sms::stand_in::StandIn::start().await;
        let client = chotomoni_sms::Twilio::new(stand_in.config("+15005550006")).expect("client");
        services = services.with_sms(std::sync::Arc::new(client));
        sms = Some(stand_in);
    }
    if let Some(sender) = transports.sms {
        services = services.with_sms(sender);
    }
    if let Some(mailer) = transports.mail {
        services = services.with_mail(mailer);
    }
    if let Some(couriers) = transports.couriers {
        services = services.with_couriers(couriers);
    }
    if let Some(gateways) = transports.gateways {
        services = services.with_gateways(gateways);
    }
    chotomoni_services::seed::seed_products(&services)
        .await
        .expect("products");
    serve_app(
        services,
        t,
        blob_config,
        (settings, proof_settings),
        web,
        sms,
    )
    .await
}

async fn services_over(
    t: &TestDb,
    blob_config: &chotomoni_storage::blobs::BlobConfig,
    keys: chotomoni_crypto::Keyring,
    (settings, proof_settings): (Settings, chotomoni_services::proofs::ProofSettings),
) -> Services {
    let db = Db::connect(&t.url, 8).await.expect("connect");
    db.migrate().await.expect("migrate");
    let media = chotomoni_services::MediaConfig {
        blobs: chotomoni_storage::blobs::BlobStore::open(blob_config).expect("media store"),
        staging_dir: t.dir.path().join("uploads"),
        settings: proof_settings,
        key_vault: Some(
            chotomoni_storage::blobs::BlobStore::open(
                &chotomoni_storage::blobs::BlobConfig::Local {
                    root: t.dir.path().join("key-vault"),
                },
            )
            .expect("key vault"),
        ),
    };
    let services = Services::new(db, keys, settings, media).expect("services");
    services
        .ensure_first_policy()
        .await
        .expect("policy version 1");
    services
}

async fn serve_app(
    services: Services,
    t: std::sync::Arc<TestDb>,
    blob_config: chotomoni_storage::blobs::BlobConfig,
    (settings, proof_settings): (Settings, chotomoni_services::proofs::ProofSettings),
    web: WebConfig,
    sms: Option<chotomoni_sms::stand_in::StandIn>,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState {
        services: services.clone(),
        config: web,
    };
    tokio::spawn(chotomoni_web::serve(
        listener,
        state,
        std::future::pending(),
    ));
    // Workers, as `serve` runs them: export builds, inspections, notices.
    // Recurring jobs are not declared: tests run sweeps themselves.
    for _ in 0..settings.jobs.workers {
        tokio::spawn(services.worker().run(std::future::pending()));
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        services,
        http,
        db: t,
        blob_config,
        settings,
        proof_settings,
        sms,
    }
}

impl TestApp {
    /// A second server over the same database, media and keys, with nothing
    /// in memory: what a restart (or another server behind the load
    /// balancer) sees.
    pub async fn restart(&self) -> TestApp {
        let keys = self.services.vault().keyring().clone();
        let settings = (self.settings.clone(), self.proof_settings.clone());
        // Another server of the same shop: the same providers and clock.
        let services = services_over(&self.db, &self.blob_config, keys, settings.clone())
            .await
            .serving_beside(&self.services);
        serve_app(
            services,
            self.db.clone(),
            self.blob_config.clone(),
            settings,
            WebConfig::default(),
            None,
        )
        .await
    }

    /// Signs in the customer of the first order: their id, bearer token and session.
    pub async fn first_customer_session(&self) -> (i64, String, chotomoni_services::auth::Session) {
        let id: i64 = sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id LIMIT 1")
            .fetch_one(&self.services.db().pool)
            .await
            .unwrap();
        let (token, session) = self
            .customer_session(id, &chotomoni_services::auth::ClientInfo::default())
            .await;
        (id, token, session)
    }

    /// Signs a customer in as a registered one is: their phone proven by a
    /// one-time code (so the guest orders placed with it are theirs), then
    /// a session. Returns the bearer token and the session.
    pub async fn customer_session(
        &self,
        id: i64,
        client: &chotomoni_services::auth::ClientInfo,
    ) -> (String, chotomoni_services::auth::Session) {
        let me = chotomoni_domain::CustomerId(id);
        self.services.phone_proven(me).await.unwrap();
        self.services
            .open_session(
                chotomoni_services::Actor::Customer(me),
                chotomoni_domain::catalog::Lang::En,
                client,
            )
            .await
            .unwrap()
    }

    /// Records that the customer proved `email` is theirs (what the link
    /// of `Services::send_email_confirmation` does; tested in `attacks.rs`).
    pub async fn prove_email(&self, customer: i64, email: &str) {
        let index = self
            .services
            .vault()
            .email_index(&chotomoni_domain::Email::parse(email).unwrap());
        let mut conn = self.services.db().conn().await.unwrap();
        let proven = chotomoni_storage::customers::mark_email_verified(
            &mut conn,
            customer,
            &index,
            chotomoni_services::now_ms(),
        )
        .await
        .unwrap();
        assert!(proven, "{email} is the customer's email");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds a staff member and signs them in; returns the bearer token.
    pub async fn staff(&self, username: &str, role: Role) -> String {
        let password = "correct horse battery";
        self.services
            .add_staff(username, password, role)
            .await
            .unwrap();
        let res = self
            .http
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Erases a customer at once, as the system.
    pub async fn erase(&self, customer: i64) {
        let erased = self
            .services
            .erase_customer(
                &chotomoni_services::Actor::System,
                chotomoni_domain::CustomerId(customer),
                None,
            )
            .await
            .unwrap();
        assert!(
            matches!(erased, chotomoni_services::erasure::ErasureResult::Done(_)),
            "{erased:?}"
        );
    }

    /// Moves the clock past an erasure's ten minutes and runs its cleanup
    /// job, which must be there and end without an error.
    pub async fn run_erasure_cleanup(&self) {
        self.services
            .clock()
            .advance(std::time::Duration::from_secs(11 * 60));
        let ran = self
            .services
            .run_jobs_of(chotomoni_domain::JobKind::ErasureCleanup)
            .await
            .unwrap();
        assert_eq!(ran.len(), 1, "{ran:?}");
        assert_eq!(ran[0].error, None);
    }

    /// Waits (up to 10 s) until every courier report received has been
    /// applied: a webhook is answered once its report is in the inbox, and
    /// the server's writer applies it right after.
    pub async fn reports_applied(&self) {
        for _ in 0..1000 {
            if self.count("courier_inbox").await == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("courier reports were received and not applied within 10 s");
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.services.db().pool)
            .await
            .unwrap()
    }
}

pub fn order_body(name: &str, phone: &str) -> Value {
    json!({
        "customer": {"name": name, "phone": phone, "email": "shapla.test@example.com"},
        "address": {"line": "House 12, Road 7, Block C", "area": "Mirpur", "district": "Dhaka"},
        "items": [{"name": "Jamdani saree, Dhakai", "sku": "SAR-JAM-01", "quantity": 1, "unit_price": 850000},
                  {"name": "Sylhet tea, 500 g", "sku": "TEA-SYL-05", "quantity": 2, "unit_price": 45000}],
        "delivery_instructions": "Ring the bell twice",
        "payment_method": "cod"
    })
}

/// Reading server-rendered pages the way a browser shows them.
pub mod html {
    use regex::Regex;
    use reqwest::Client;

    /// minijinja escapes `/` and quotes in HTML; compare against the text a browser shows.
    pub fn unescape(html: &str) -> String {
        html.replace("&#x2f;", "/")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    pub async fn text(res: reqwest::Response) -> String {
        unescape(&res.text().await.unwrap())
    }

    /// A client that keeps cookies, as a browser does.
    pub fn browser() -> Client {
        Client::builder().cookie_store(true).build().unwrap()
    }

    pub fn csrf_of(html: &str) -> String {
        Regex::new(r#"name="csrf" value="([^"]+)""#)
            .unwrap()
            .captures(html)
            .expect("page has a CSRF token")[1]
            .to_owned()
    }
}

/// An SMTP stand-in, and a mailer that sends to it as the shop.
pub async fn smtp_stand_in() -> (
    chotomoni_mail::stand_in::StandIn,
    std::sync::Arc<dyn chotomoni_mail::Mailer>,
) {
    let smtp = chotomoni_mail::stand_in::StandIn::start().await;
    let mailer = chotomoni_mail::Smtp::new(chotomoni_mail::SmtpConfig {
        url: smtp.url(),
        password: None,
        from: "Chotomoni <shop@chotomoni.test>".into(),
    })
    .unwrap();
    (smtp, std::sync::Arc::new(mailer))
}
