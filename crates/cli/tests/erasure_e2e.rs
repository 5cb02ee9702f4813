//! Erasure reaches everything, end to end, on both engines, with the real
//! binary. A customer with distinctive name, phone, email, address,
//! instructions and browser gets orders, a proof, an open claim (a hold on
//! one order's proof), a signed-in session and consents; a backup is taken
//! while the server runs; the customer is erased through a privacy request;
//! then the database files (SQLite file and WAL, or a PostgreSQL dump), the
//! media store, the key vault, the logs, the backup and a restored copy are
//! searched for those values, plain and in the encodings the system uses,
//! and none is found. A control value kept in clear (an item name) is found
//! in the same places, so the search itself works. The restored copy still
//! serves another customer, whose key came from the vault. SMS and email go
//! to the development outboxes (in the data folder, so searched too): the
//! person's code, confirmation link and last message leave no trace there,
//! while another customer's code stays.
mod common;

use base64::Engine as _;
use chotomoni_testkit::{both_engines, Engine, TestDb};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const NAME: &str = "Zubaida Qorvex Harrington";
const PHONE_LOCAL: &str = "01719876543";
const EMAIL: &str = "zubaida.qorvex@example.org";
const ADDRESS_LINE: &str = "Flat 9Z, Qorvexpur Lane 77";
const AREA: &str = "Qorvextola";
const INSTRUCTIONS: &str = "Hand it to the guard Quillon Varga";
const BROWSER: &str = "QorvexBrowser/9.7";
const CONTROL: &str = "Jamdani saree";
const OTHER_NAME: &str = "Control Customer Nilufar";

/// The keyed fingerprints the installation makes of the phone and email
/// (blind indexes, rate-limit keys), as bytes, hex and base64.
fn fingerprints(data: &Path) -> Vec<(String, Vec<u8>)> {
    let hex_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let ring = chotomoni_crypto::MasterKey::from_hex(&hex_key)
        .unwrap()
        .keyring();
    let phone = "+8801719876543";
    let mut made = vec![
        ("phone index".to_owned(), ring.blind_index("phone", phone)),
        ("email index".to_owned(), ring.blind_index("email", EMAIL)),
    ];
    for account in [
        format!("register:{phone}"),
        format!("customer:{phone}"),
        format!("privacy-request:{phone}"),
    ] {
        made.push((
            format!("rate key {account}"),
            ring.blind_index("sign-in", &account),
        ));
    }
    let mut out = vec![];
    for (label, bytes) in made {
        out.push((format!("{label} (hex)"), hex::encode(&bytes).into_bytes()));
        out.push((
            format!("{label} (base64)"),
            base64::engine::general_purpose::STANDARD
                .encode(&bytes)
                .into_bytes(),
        ));
        out.push((format!("{label} (bytes)"), bytes));
    }
    out
}

/// The values and the forms they could take on disk or in a log.
fn needles() -> Vec<(String, Vec<u8>)> {
    let mut plain: Vec<String> = [NAME, EMAIL, ADDRESS_LINE, AREA, INSTRUCTIONS, BROWSER]
        .iter()
        .map(|s| s.to_string())
        .collect();
    plain.extend(["+8801719876543", "8801719876543", PHONE_LOCAL, "1719876543"].map(String::from));
    let mut out = Vec::new();
    for v in plain {
        let mut forms = vec![
            v.clone(),
            v.to_lowercase(),
            v.to_uppercase(),
            serde_urlencoded::to_string([("x", &v)]).unwrap()[2..].to_owned(),
            base64::engine::general_purpose::STANDARD.encode(&v),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&v),
            hex::encode(&v),
        ];
        let json = serde_json::to_string(&v).unwrap();
        forms.push(json[1..json.len() - 1].to_owned());
        forms.sort();
        forms.dedup();
        for f in forms {
            out.push((format!("{v} as {f:?}"), f.into_bytes()));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every needle found in `hay`, as `place: value`.
fn search(place: &str, hay: &[u8], extra: &[(String, Vec<u8>)], found: &mut Vec<String>) {
    for (label, needle) in needles().iter().chain(extra) {
        if contains(hay, needle) {
            found.push(format!("{place}: {label}"));
        }
    }
}

struct Env {
    db_url: String,
    data: PathBuf,
}

fn chotomoni(env: &Env, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chotomoni"));
    c.arg("--data-dir").arg(&env.data).args(args);
    c.env("DATABASE_URL", &env.db_url)
        .env_remove("CHOTOMONI_MASTER_KEY")
        .env("CHOTOMONI_LOG", "debug")
        .env("CHOTOMONI_SMS_PROVIDER", "file")
        .env("CHOTOMONI_MAIL_TRANSPORT", "outbox")
        // For the link in the email confirmation.
        .env("CHOTOMONI_PUBLIC_URL", "https://shop.example");
    c
}

/// The lines of the development SMS outbox.
fn sms_outbox(env: &Env) -> String {
    std::fs::read_to_string(env.data.join("sms-outbox.txt")).unwrap_or_default()
}

/// The messages in the development mail outbox.
fn mail_outbox(env: &Env) -> Vec<String> {
    files_under(&env.data.join("mail-outbox"))
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// The code in the latest SMS to `e164`, from the outbox.
fn code_sent_to(env: &Env, e164: &str) -> String {
    let to = format!("\t{e164}\t");
    let outbox = sms_outbox(env);
    let line = outbox
        .lines()
        .rev()
        .find(|l| l.contains(&to))
        .expect("a code");
    let text = line.splitn(3, '\t').nth(2).unwrap();
    regex::Regex::new(r"(\d{6})")
        .unwrap()
        .captures(text)
        .unwrap()[1]
        .to_owned()
}

async fn get_json(http: &reqwest::Client, url: String, token: &str) -> Value {
    let res = http.get(url).bearer_auth(token).send().await.unwrap();
    res.json().await.unwrap()
}

/// Waits until the server has sent the erased person's last message.
async fn wait_for_the_last_message(http: &reqwest::Client, address: &str, admin: &str) {
    for _ in 0..100 {
        let done = get_json(http, format!("{address}/api/v1/jobs?state=done"), admin).await;
        let jobs = done["jobs"].as_array().unwrap();
        if jobs.iter().any(|j| j["kind"] == "message.erasure_notice") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the erased person's last message was not sent");
}

fn run(env: &Env, args: &[&str], stdin: &str) -> String {
    let mut child = chotomoni(env, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "chotomoni {args:?} failed: {text}");
    text
}

fn serve(env: &Env, log: &Path) -> (Child, String) {
    let mut server = chotomoni(env, &["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if let Some(a) = line.unwrap().strip_prefix("Chotomoni is running at ") {
            let address = a.trim_end_matches('/').to_owned();
            // Keep reading its output so it never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (server, address);
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!(
        "the server did not start: {}",
        std::fs::read_to_string(log).unwrap()
    );
}

fn order(name: &str, phone: &str, email: &str, line: &str, instructions: &str) -> Value {
    json!({
        "customer": {"name": name, "phone": phone, "email": email},
        "address": {"line": line, "area": AREA, "district": "Dhaka"},
        "items": [{"name": CONTROL, "sku": "SAR-JAM-01", "quantity": 1, "unit_price": 850000}],
        "delivery_instructions": instructions,
        "payment_method": "cod",
        "source": "phone",
        "marketing_opt_in": true
    })
}

async fn sign_in(http: &reqwest::Client, address: &str, user: &str) -> String {
    let res = http
        .post(format!("{address}/api/v1/session"))
        .json(&json!({"username": user, "password": "a long staff password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// The database's own files (SQLite) or a dump of it (PostgreSQL).
fn database_bytes(db: &TestDb, into: &Path) -> Vec<(String, Vec<u8>)> {
    match db.engine {
        Engine::Sqlite => {
            let file = db.url.trim_start_matches("sqlite://").to_owned();
            ["", "-wal", "-shm"]
                .iter()
                .filter_map(|suffix| {
                    let path = format!("{file}{suffix}");
                    std::fs::read(&path).ok().map(|b| (path, b))
                })
                .collect()
        }
        Engine::Postgres => {
            let out = into.join("dump.sql");
            let status = Command::new("pg_dump")
                .arg("--dbname")
                .arg(&db.url)
                .arg("--file")
                .arg(&out)
                .status()
                .expect("pg_dump runs");
            assert!(status.success(), "pg_dump failed");
            vec![(out.display().to_string(), std::fs::read(&out).unwrap())]
        }
    }
}

async fn erasure_reaches_everything(engine: Engine) {
    let db = TestDb::fresh(engine).await;
    let env = Env {
        db_url: db.url.clone(),
        data: db.dir.path().join("data"),
    };
    for (user, role) in [
        ("admin", "admin"),
        ("support", "support"),
        ("packer", "packer"),
    ] {
        run(
            &env,
            &["staff", "add", user, "--role", role],
            "a long staff password\n",
        );
    }
    let log = db.dir.path().join("serve.log");
    let (mut server, address) = serve(&env, &log);
    // Staff and the shop's API use an ordinary client; only the person's browser is distinctive.
    let http = reqwest::Client::new();
    // Support takes the orders by phone: a new shop has no catalogue for
    // shop orders, and staff may price what they enter.
    let entering = sign_in(&http, &address, "support").await;

    // Two orders of the person, and one of somebody else.
    let mut numbers = vec![];
    for line in [ADDRESS_LINE, ADDRESS_LINE] {
        let (status, o) = post(
            &http,
            format!("{address}/api/v1/orders"),
            Some(&entering),
            order(NAME, PHONE_LOCAL, EMAIL, line, INSTRUCTIONS),
        )
        .await;
        assert_eq!(status, 201, "{o}");
        numbers.push(o["number"].as_str().unwrap().to_owned());
    }
    let (status, _) = post(
        &http,
        format!("{address}/api/v1/orders"),
        Some(&entering),
        order(
            OTHER_NAME,
            "01811222333",
            "nilufar@example.com",
            "House 1, Road 2",
            "none",
        ),
    )
    .await;
    assert_eq!(status, 201);

    // The person registers (an SMS code) and is signed in from their browser.
    let browser = reqwest::Client::builder()
        .user_agent(BROWSER)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = browser
        .post(format!("{address}/account/register"))
        .form(&[("step", "1"), ("phone", PHONE_LOCAL)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let code = code_sent_to(&env, "+8801719876543");
    // Somebody else's code, which stays in the outbox.
    let res = reqwest::Client::new()
        .post(format!("{address}/account/register"))
        .form(&[("step", "1"), ("phone", "01811222333")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let others_code = code_sent_to(&env, "+8801811222333");
    let res = browser
        .post(format!("{address}/account/register"))
        .form(&[
            ("step", "2"),
            ("phone", PHONE_LOCAL),
            ("code", &code),
            ("name", NAME),
            ("email", EMAIL),
            ("password", "qorvex secret pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let admin = sign_in(&http, &address, "admin").await;
    let packer = sign_in(&http, &address, "packer").await;
    let support = sign_in(&http, &address, "support").await;
    for n in &numbers {
        common::upload_proof(
            &http,
            &address,
            &packer,
            n,
            &chotomoni_testkit::fake_mp4(60_000),
        )
        .await;
    }
    // An open claim on the first order keeps its proof past the erasure.
    let (status, _) = post(
        &http,
        format!("{address}/api/v1/orders/{}/holds", numbers[0]),
        Some(&admin),
        json!({"reason": "open_claim", "note": "claim 5521"}),
    )
    .await;
    assert_eq!(status, 201);

    // A backup while the server runs.
    let backups = db.dir.path().join("backups");
    let printed = run(&env, &["backup", backups.to_str().unwrap()], "");
    assert!(printed.contains("backup written to"), "{printed}");
    let backup_dir = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();

    // The person asks for erasure, signed in; support carries it out.
    let account = browser
        .get(format!("{address}/account"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = regex::Regex::new(r#"name="csrf" value="([^"]+)""#)
        .unwrap()
        .captures(&account)
        .expect("a form")[1]
        .to_owned();
    // A link to prove the email is theirs: a message in the mail outbox.
    let res = browser
        .post(format!("{address}/account/email/confirm"))
        .header("cookie", &cookie)
        .header("origin", &address)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(mail_outbox(&env).iter().any(|m| m.contains(EMAIL)));
    let res = browser
        .post(format!("{address}/account/requests"))
        .header("cookie", &cookie)
        .header("origin", &address)
        .form(&[("csrf", csrf.as_str()), ("kind", "erasure")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, queue) = {
        let res = http
            .get(format!("{address}/api/v1/privacy/requests"))
            .bearer_auth(&support)
            .send()
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    let id = queue[0]["id"].as_i64().unwrap();
    let (status, done) = post(
        &http,
        format!("{address}/api/v1/privacy/requests/{id}/complete"),
        Some(&support),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["outcome"]["held"][0]["order"], numbers[0].as_str());
    wait_for_the_last_message(&http, &address, &admin).await;
    server.kill().unwrap();
    let _ = server.wait();
    // The outboxes keep the other customer's code and nothing of the person's.
    let sms_left = sms_outbox(&env);
    assert!(!sms_left.contains("1719876543"), "{sms_left}");
    assert!(sms_left.contains("\t+8801811222333\t") && sms_left.contains(&others_code));
    assert!(mail_outbox(&env).is_empty());

    // Search everything the installation has written.
    let mut found = vec![];
    let mut control = vec![];
    let prints = fingerprints(&env.data);
    let mut check = |place: String, bytes: &[u8], found: &mut Vec<String>| {
        search(&place, bytes, &prints, found);
        if contains(bytes, CONTROL.as_bytes()) {
            control.push(place);
        }
    };
    for (place, bytes) in database_bytes(&db, db.dir.path()) {
        check(place, &bytes, &mut found);
    }
    for path in files_under(&env.data)
        .into_iter()
        .chain(files_under(&backup_dir))
    {
        check(
            path.display().to_string(),
            &std::fs::read(&path).unwrap(),
            &mut found,
        );
    }
    check(
        "server log".into(),
        &std::fs::read(&log).unwrap(),
        &mut found,
    );
    check("backup output".into(), printed.as_bytes(), &mut found);

    // A restored copy, into a new database, over the same media and key vault.
    let restored_db = TestDb::fresh(engine).await;
    let restored = Env {
        db_url: restored_db.url.clone(),
        data: env.data.clone(),
    };
    let out = run(&restored, &["restore", backup_dir.to_str().unwrap()], "");
    assert!(
        out.contains("1 erasures made since the backup re-applied"),
        "{out}"
    );
    check("restore output".into(), out.as_bytes(), &mut found);
    let restored_dir = db.dir.path().join("restored");
    std::fs::create_dir_all(&restored_dir).unwrap();
    for (place, bytes) in database_bytes(&restored_db, &restored_dir) {
        check(format!("restored {place}"), &bytes, &mut found);
    }
    assert!(
        found.is_empty(),
        "erased values found:\n{}",
        found.join("\n")
    );
    let control_in_db = control
        .iter()
        .filter(|p| p.contains("test.db") || p.contains("dump.sql"))
        .count();
    assert!(
        control_in_db >= 2,
        "the search finds what is there (original and restored database): {control:?}"
    );
    assert!(
        control
            .iter()
            .any(|p| p.contains("orders.jsonl") || p.contains("order_items.jsonl")),
        "{control:?}"
    );

    // The restored copy serves the other customer, with their key from the vault.
    let log2 = db.dir.path().join("serve2.log");
    let (mut server, address) = serve(&restored, &log2);
    let admin = sign_in(&http, &address, "admin").await;
    let page = get_json(&http, format!("{address}/api/v1/orders?limit=10"), &admin).await;
    let orders = page["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 3, "{page}");
    let names: Vec<&str> = orders
        .iter()
        .filter_map(|o| o["customer_name"].as_str())
        .collect();
    assert!(names.contains(&OTHER_NAME), "{page}");
    assert!(!names.contains(&NAME), "{page}");
    server.kill().unwrap();
    let _ = server.wait();
}
both_engines!(
    erasure_leaves_nothing_in_the_database_media_logs_backup_or_restore,
    super::erasure_reaches_everything
);
