//! A fresh, empty database per test, on either engine. PostgreSQL is not
//! optional: when it cannot be reached the test fails with a message saying
//! so, it is never skipped.

use rand::Rng;
use sqlx::{Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The server the PostgreSQL tests use; `CHOTOMONI_TEST_POSTGRES` overrides it.
pub fn postgres_admin_url() -> String {
    std::env::var("CHOTOMONI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub struct TestDb {
    pub url: String,
    pub engine: Engine,
    pg_name: Option<String>,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn fresh(engine: Engine) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        match engine {
            Engine::Sqlite => TestDb {
                url: format!("sqlite://{}/test.db", dir.path().display()),
                engine,
                pg_name: None,
                dir,
            },
            Engine::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is required for these tests and is unreachable at {admin}: {e}. \
                         Start it, or set CHOTOMONI_TEST_POSTGRES."
                    )
                });
                let name = format!("cm_test_{:016x}", rand::thread_rng().gen::<u64>());
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDb {
                    url: format!("{base}/{name}"),
                    engine,
                    pg_name: Some(name),
                    dir,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
                    .await
                    .ok()?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// Runs an async test body once per engine: `both_engines!(name, body_fn)`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body($crate::Engine::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body($crate::Engine::Postgres).await
            }
        }
    };
}

/// A fresh bucket on the S3-compatible test server (moto's, which
/// `./scripts/test` starts; `CHOTOMONI_TEST_S3`, default
/// `http://127.0.0.1:5123`). Panics, naming the fix, when it is unreachable:
/// an S3 test never skips.
pub async fn s3_bucket() -> chotomoni_storage::blobs::BlobConfig {
    let endpoint =
        std::env::var("CHOTOMONI_TEST_S3").unwrap_or_else(|_| "http://127.0.0.1:5123".to_owned());
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    let bucket = format!("cm-test-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    // moto accepts an unsigned `PUT /bucket`.
    let url = format!("{endpoint}/{bucket}");
    let response = reqwest::Client::new()
        .put(&url)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the S3-compatible test server is not reachable at {endpoint} ({e}).\n\
                 Run the suite with ./scripts/test (it starts moto's server), or start one \
                 yourself (`moto_server -H 127.0.0.1 -p 5123`) or set CHOTOMONI_TEST_S3."
            )
        });
    assert!(
        response.status().is_success(),
        "creating bucket {bucket} at {endpoint} answered {}",
        response.status()
    );
    chotomoni_storage::blobs::BlobConfig::S3 {
        endpoint: Some(endpoint),
        bucket,
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing-secret".into(),
        allow_http: true,
    }
}

/// Bytes that sniff as MP4 (an `ftyp` box) followed by noise: enough for
/// upload mechanics; ffprobe will not make sense of them.
pub fn fake_mp4(len: usize) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x18];
    out.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    let mut state: u32 = len as u32 ^ 0x9e37_79b9;
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out.push(state as u8);
    }
    out.truncate(len);
    out
}
