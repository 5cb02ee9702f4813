//! The `chotomoni` binary as an operator uses it, on both engines: migrate,
//! staff add (password on standard input), seed, and serve --demo.
mod common;

use chotomoni_testkit::{both_engines, Engine, TestDb};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn chotomoni(db: &TestDb, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chotomoni"));
    c.arg("--data-dir")
        .arg(db.dir.path().join("data"))
        .args(args);
    c.env("DATABASE_URL", &db.url)
        .env_remove("CHOTOMONI_MASTER_KEY")
        .env("CHOTOMONI_LOG", "info");
    c
}

fn run(db: &TestDb, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = chotomoni(db, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before reading its input closes the pipe early.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn operator_commands(engine: Engine) {
    let db = TestDb::fresh(engine).await;
    let (ok, out) = run(&db, &["migrate"], "");
    assert!(ok, "{out}");
    assert!(out.contains("migrations applied"), "{out}");
    let key_file = db.dir.path().join("data/master.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let (ok, out) = run(
        &db,
        &["staff", "add", "Rina", "--role", "packer"],
        "a packing password\n",
    );
    assert!(
        ok && out.contains("staff rina added with role packer"),
        "{out}"
    );
    let (ok, out) = run(
        &db,
        &["staff", "add", "rina", "--role", "admin"],
        "another password\n",
    );
    assert!(!ok && out.contains("already exists"), "{out}");
    let (ok, out) = run(&db, &["staff", "add", "mitu", "--role", "admin"], "short\n");
    assert!(!ok && out.contains("at least 10 characters"), "{out}");
    let (ok, out) = run(
        &db,
        &["staff", "add", "mitu", "--role", "boss"],
        "long enough password\n",
    );
    assert!(
        !ok && out.contains("role must be admin, support, packer or courier"),
        "{out}"
    );

    let (ok, out) = run(&db, &["seed", "--orders", "300"], "");
    assert!(ok && out.contains("seeded 300 orders"), "{out}");

    // serve --demo on a free port: it prints where it runs and a staff login.
    // Its log goes to a file: an unread pipe would fill up and stall it.
    let log_path = db.dir.path().join("serve.log");
    let mut server = chotomoni(&db, &["serve", "--demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut address = None;
    let mut password = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(p) = line.strip_prefix("password: ") {
            password = Some(p.to_owned());
        }
        if let Some(a) = line.strip_prefix("Chotomoni is running at ") {
            address = Some(a.trim_end_matches('/').to_owned());
            break;
        }
    }
    let (address, password) = (address.expect(&printed), password.expect(&printed));
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{address}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = http
        .post(format!("{address}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the printed login works");
    let token = res.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page: serde_json::Value = http
        .get(format!("{address}/api/v1/orders?limit=200"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["orders"].as_array().unwrap().len(),
        200,
        "seeded and demo orders are there"
    );
    verify_a_proof(
        &db,
        &http,
        &address,
        &token,
        page["orders"][0]["number"].as_str().unwrap(),
    )
    .await;
    server.kill().unwrap();
    let _ = server.wait();
    let err = std::fs::read_to_string(&log_path).unwrap();
    assert!(err.contains("order placed"), "the server logged: {err}");
    let everything = format!("{printed}{err}{out}");
    assert!(
        !everything.contains(key.trim()),
        "the master key was printed"
    );
    if engine == Engine::Postgres {
        assert!(
            !everything.contains(&db.url),
            "the database URL is shown only redacted"
        );
    }
}
both_engines!(operator_commands_work, super::operator_commands);

/// A master key file other users may read is refused with what to do, and
/// the same file made private works.
#[cfg(unix)]
#[tokio::test]
async fn a_master_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::fresh(Engine::Sqlite).await;
    let (ok, out) = run(&db, &["migrate"], "");
    assert!(ok, "{out}");
    let key_file = db.dir.path().join("data/master.key");
    for loose in [0o644, 0o640, 0o606] {
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(loose)).unwrap();
        let (ok, out) = run(&db, &["migrate"], "");
        assert!(!ok, "mode {loose:o} was accepted: {out}");
        assert!(
            out.contains("can be read or changed by other users") && out.contains("chmod 600"),
            "{out}"
        );
    }
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ok, out) = run(&db, &["migrate"], "");
    assert!(ok, "{out}");
}

/// Uploads a proof through tus, downloads it with its receipt and the
/// published key, and checks it offline with `chotomoni verify`; a changed
/// byte fails with a clear message and exit status 1.
async fn verify_a_proof(
    db: &TestDb,
    http: &reqwest::Client,
    address: &str,
    token: &str,
    order: &str,
) {
    let file = chotomoni_testkit::fake_mp4(150_000);
    let id = common::upload_proof(http, address, token, order, &file).await;
    let get = |path: String| {
        let req = http.get(format!("{address}{path}")).bearer_auth(token);
        async move { req.send().await.unwrap().bytes().await.unwrap() }
    };
    let dir = db.dir.path();
    std::fs::write(
        dir.join("proof.mp4"),
        get(format!("/api/v1/proofs/{id}/content")).await,
    )
    .unwrap();
    std::fs::write(
        dir.join("receipt.json"),
        get(format!("/api/v1/proofs/{id}/receipt")).await,
    )
    .unwrap();
    std::fs::write(
        dir.join("log.key"),
        get("/.well-known/chotomoni-log-key".into()).await,
    )
    .unwrap();
    let verify = |file: &str, key: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_chotomoni"));
        c.arg("verify")
            .arg(dir.join(file))
            .arg(dir.join("receipt.json"));
        if key {
            c.arg("--key").arg(dir.join("log.key"));
        }
        let out = c.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, out) = verify("proof.mp4", true);
    assert!(ok && out.starts_with("OK:") && out.contains(order), "{out}");
    assert!(!out.contains("Note:"), "the key was pinned: {out}");
    let (ok, out) = verify("proof.mp4", false);
    assert!(ok && out.contains("Note:"), "{out}");
    let mut changed = file.clone();
    changed[100_000] ^= 1;
    std::fs::write(dir.join("changed.mp4"), &changed).unwrap();
    let (ok, out) = verify("changed.mp4", true);
    assert!(!ok && out.starts_with("FAILED: the file differs"), "{out}");
    // The stored copy under the media folder is encrypted.
    let media = dir.join("data").join("media");
    let stored = walk(&media);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let bytes = std::fs::read(&stored[0]).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    assert!(!bytes.windows(64).any(|w| w == &file[50_000..50_064]));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The master key is checked against the database: another key, or a key
/// file gone missing (which would make a new key), is refused with what to
/// do, before anything is written; a database made before the canary is
/// checked by opening a customer's key, and gets its canary then.
async fn master_key_is_checked(engine: Engine) {
    let db = TestDb::fresh(engine).await;
    let (ok, out) = run(&db, &["seed", "--orders", "20"], "");
    assert!(ok, "{out}");
    let key_file = db.dir.path().join("data/master.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    let other = "ab".repeat(32);
    let with_key = |k: &str| {
        let mut c = chotomoni(&db, &["migrate"]);
        c.env("CHOTOMONI_MASTER_KEY", k);
        let out = c.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = with_key(&other);
    assert!(!ok, "another key was accepted");
    assert!(err.contains("does not match this database"), "{err}");
    assert!(with_key(key.trim()).0, "the right key works");

    // The key file gone: refused, and no new key is made in its place.
    std::fs::rename(&key_file, db.dir.path().join("key.saved")).unwrap();
    let (ok, out) = run(&db, &["migrate"], "");
    assert!(!ok && out.contains("is missing"), "{out}");
    assert!(!key_file.exists(), "a new key was generated");
    std::fs::rename(db.dir.path().join("key.saved"), &key_file).unwrap();

    // A database from before the canary: a customer's key decides.
    let store = chotomoni_storage::Db::connect(&db.url, 2).await.unwrap();
    sqlx::query("DELETE FROM installation")
        .execute(&store.pool)
        .await
        .unwrap();
    let (ok, err) = with_key(&other);
    assert!(!ok && err.contains("does not match this database"), "{err}");
    let canaries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM installation")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(canaries, 0, "the wrong key wrote nothing");
    let (ok, out) = run(&db, &["migrate"], "");
    assert!(ok, "{out}");
    let canaries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM installation")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(canaries, 1);
}

both_engines!(the_master_key_is_checked, super::master_key_is_checked);
