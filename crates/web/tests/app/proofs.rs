//! Viewing and sharing proofs, and their tamper evidence, on both engines:
//! the access matrix (each role, the owning customer, another customer and
//! a stranger against each proof endpoint), Range reads, receipts that
//! verify offline and fail on a changed byte, consistency between signed
//! tree heads, share links, a tampered blob, photos cleaned of location,
//! real video inspected by ffprobe, and the S3 media path.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_services::auth::ClientInfo;
use chotomoni_testkit::fake_mp4;
use chotomoni_testkit::{both_engines, Engine};
use common::tus::real_mp4;
use common::{Media, TestApp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Two customers with an order each; a proof of the first one's order.
struct Scene {
    mine: String,
    proof: i64,
    file: Vec<u8>,
    packer: String,
    support: String,
}

async fn scene(app: &TestApp) -> Scene {
    let (_, mine) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Owner One", "01711000001"),
        )
        .await;
    let (_, _theirs) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Owner Two", "01711000002"),
        )
        .await;
    let mine = mine["number"].as_str().unwrap().to_owned();
    let packer = app.staff("packer", Role::Packer).await;
    let support = app.staff("support", Role::Support).await;
    let file = fake_mp4(200_000);
    let proof = app.upload_proof(&packer, &mine, &file, 70_000).await;
    Scene {
        mine,
        proof,
        file,
        packer,
        support,
    }
}

async fn customer_token(app: &TestApp, phone_order: usize) -> String {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap();
    let (token, _) = app
        .customer_session(ids[phone_order], &ClientInfo::default())
        .await;
    token
}

async fn access_matrix(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let owner = customer_token(&app, 0).await;
    let other = customer_token(&app, 1).await;
    let admin = app.staff("admin", Role::Admin).await;
    let courier = app.staff("courier", Role::Courier).await;
    let p = s.proof;
    let endpoints = [
        format!("/api/v1/orders/{}/proofs", s.mine),
        format!("/api/v1/proofs/{p}"),
        format!("/api/v1/proofs/{p}/content"),
        format!("/api/v1/proofs/{p}/receipt"),
    ];
    // Who, and the status each endpoint answers them.
    let matrix: [(&str, Option<&str>, u16); 7] = [
        ("admin", Some(&admin), 200),
        ("support", Some(&s.support), 200),
        ("packer", Some(&s.packer), 403),
        ("courier", Some(&courier), 403),
        ("owning customer", Some(&owner), 200),
        ("another customer", Some(&other), 404),
        ("stranger", None, 401),
    ];
    for (who, token, expected) in matrix {
        for path in &endpoints {
            let (status, _, _) = app.get_bytes(path, token, None).await;
            assert_eq!(status, expected, "{who} GET {path}");
        }
    }
    // Another customer's proof looks exactly like one that does not exist.
    let (_, _, theirs) = app
        .get_bytes(&format!("/api/v1/proofs/{p}"), Some(&other), None)
        .await;
    let (status, _, none) = app
        .get_bytes("/api/v1/proofs/999999", Some(&other), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(theirs.unwrap(), none.unwrap());
    // Share links: support makes them; packers, couriers and customers cannot.
    for token in [&s.packer, &courier, &owner] {
        let (status, _) = app
            .post(
                &format!("/api/v1/proofs/{p}/share-links"),
                Some(token),
                &json!({"purpose": "courier_claim"}),
            )
            .await;
        assert_eq!(status, 403);
    }
    // Staff views of proofs are in the audit log; the view names no person.
    app.services.audit().flush().await;
    let actions: Vec<String> = sqlx::query_scalar("SELECT action || ' ' || target || ' ' || detail FROM audit_log WHERE action LIKE 'proof.%' ORDER BY id")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap();
    assert!(
        actions.iter().any(|a| a.starts_with("proof.add order:")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.starts_with("proof.watch proof:")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .all(|a| !a.contains("Owner") && !a.contains("1711")),
        "{actions:?}"
    );
}
both_engines!(access_matrix, super::access_matrix);

async fn ranges_receipts_and_consistency(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let path = format!("/api/v1/proofs/{}/content", s.proof);
    let (status, headers, body) = app.get_bytes(&path, Some(&s.support), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(headers["content-type"], "video/mp4");
    assert!(body.unwrap() == s.file);
    // The middle, crossing a 64 KiB chunk boundary.
    let (status, headers, body) = app
        .get_bytes(&path, Some(&s.support), Some("bytes=65000-131099"))
        .await;
    assert_eq!(status, 206);
    assert_eq!(headers["content-range"], "bytes 65000-131099/200000");
    assert!(body.unwrap() == s.file[65_000..131_100]);
    let (_, _, tail) = app
        .get_bytes(&path, Some(&s.support), Some("bytes=-10"))
        .await;
    assert!(tail.unwrap() == s.file[199_990..]);
    let (status, _, _) = app
        .get_bytes(&path, Some(&s.support), Some("bytes=200000-"))
        .await;
    assert_eq!(status, 416);

    // The receipt verifies offline against the published key, and a
    // changed byte fails with a message a person understands.
    let key = app
        .http
        .get(app.url("/.well-known/chotomoni-log-key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, receipt) = app
        .get(&format!("/api/v1/proofs/{}/receipt", s.proof), &s.support)
        .await;
    let receipt: chotomoni_translog::Receipt = serde_json::from_value(receipt).unwrap();
    assert_eq!(receipt.leaf.order, s.mine);
    assert_eq!(receipt.leaf.uploader, "staff:1");
    let leaf_json = serde_json::to_string(&receipt.leaf).unwrap();
    assert!(
        !leaf_json.contains("Owner") && !leaf_json.contains("1711"),
        "no personal data in the leaf: {leaf_json}"
    );
    let verified =
        chotomoni_translog::verify_receipt(&s.file[..], &receipt, Some(key.trim())).unwrap();
    assert!(verified.key_pinned);
    let mut changed = s.file.clone();
    changed[123_456] ^= 0x01;
    let err =
        chotomoni_translog::verify_receipt(&changed[..], &receipt, Some(key.trim())).unwrap_err();
    assert!(err.to_string().contains("differs"), "{err}");

    // More proofs: every signed head is consistent with the earlier ones.
    for n in 0..3 {
        app.upload_proof(&s.packer, &s.mine, &fake_mp4(1000 + n), 600)
            .await;
    }
    let head = app
        .http
        .get(app.url("/api/v1/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let checkpoint = chotomoni_translog::open(&head, key.trim()).unwrap();
    assert_eq!(checkpoint.size, 4);
    let (status, c) = app.get("/api/v1/log/consistency?from=1&to=4", "").await;
    assert_eq!(status, 200, "{c}");
    let old = chotomoni_translog::open(c["from_checkpoint"].as_str().unwrap(), key.trim()).unwrap();
    let new = chotomoni_translog::open(c["to_checkpoint"].as_str().unwrap(), key.trim()).unwrap();
    let proof: Vec<[u8; 32]> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| base64_32(h.as_str().unwrap()))
        .collect();
    chotomoni_translog::merkle::verify_consistency(1, 4, &old.root, &new.root, &proof).unwrap();
    let (status, _) = app.get("/api/v1/log/consistency?from=3&to=2", "").await;
    assert_eq!(status, 422);
    // The log's tables refuse changes.
    for sql in [
        "UPDATE translog_nodes SET hash = hash",
        "DELETE FROM translog_heads",
    ] {
        assert!(
            sqlx::query(sql)
                .execute(&app.services.db().pool)
                .await
                .is_err(),
            "{sql}"
        );
    }
}
both_engines!(
    ranges_receipts_and_consistency,
    super::ranges_receipts_and_consistency
);

fn base64_32(text: &str) -> [u8; 32] {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .try_into()
        .unwrap()
}

async fn share_links(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let (status, link) = app
        .post(
            &format!("/api/v1/proofs/{}/share-links", s.proof),
            Some(&s.support),
            &json!({"purpose": "marketplace_claim"}),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let token = link["token"].as_str().unwrap();
    // Handing out the link is a disclosure, logged for the customer's export.
    let logged: Vec<(String, String, String)> =
        sqlx::query_as("SELECT recipient, fields, purpose FROM disclosures")
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(
        logged,
        vec![(
            "service_provider".to_owned(),
            "proofs.blob_key,proofs.captured_at,proofs.received_at".to_owned(),
            "fulfilment".to_owned()
        )]
    );
    // The log's writer refuses what the catalog does not allow to leave.
    let mut conn = app.services.db().conn().await.unwrap();
    let refused = chotomoni_services::disclosures::disclose(
        &mut conn,
        1,
        None,
        chotomoni_domain::catalog::Recipient::PaymentGateway,
        &["orders.instructions_enc"],
        chotomoni_domain::catalog::Purpose::Fulfilment,
    )
    .await;
    assert!(refused.is_err());
    drop(conn);
    // The link shows this proof and nothing else, without signing in.
    let page = app
        .http
        .get(app.url(&format!("/share/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<video"), "a player");
    assert!(html.contains(&s.mine) && html.contains(&hex(&Sha256::digest(&s.file))));
    for private in [
        "Owner One",
        "01711000001",
        "shapla.test@example.com",
        "Road",
    ] {
        assert!(!html.contains(private), "the share page shows {private}");
    }
    let (status, _, body) = app
        .get_bytes(&format!("/share/{token}/content"), None, Some("bytes=0-99"))
        .await;
    assert_eq!(status, 206);
    assert!(body.unwrap() == s.file[..100]);
    // A forged or altered token is simply not found.
    let mut forged = token.to_owned();
    forged.replace_range(
        token.len() - 2..,
        if token.ends_with("AA") { "AB" } else { "AA" },
    );
    assert_eq!(status_of(&app, &format!("/share/{forged}")).await, 404);
    assert_eq!(status_of(&app, "/share/not-a-token").await, 404);
    // Revoked: gone at once.
    let (status, links) = app
        .get(
            &format!("/api/v1/proofs/{}/share-links", s.proof),
            &s.support,
        )
        .await;
    assert_eq!((status, links.as_array().unwrap().len()), (200, 1));
    let (status, _) = app
        .post(
            &format!("/api/v1/share-links/{}/revoke", link["id"]),
            Some(&s.support),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(status_of(&app, &format!("/share/{token}")).await, 404);
    assert_eq!(
        status_of(&app, &format!("/share/{token}/content")).await,
        404
    );
    // Expired: gone too.
    let (_, link) = app
        .post(
            &format!("/api/v1/proofs/{}/share-links", s.proof),
            Some(&s.support),
            &json!({"purpose": "courier_claim"}),
        )
        .await;
    let token = link["token"].as_str().unwrap();
    assert_eq!(status_of(&app, &format!("/share/{token}")).await, 200);
    // A day past the link's life: refused.
    let days = u64::from(app.proof_settings.share_link_days) + 1;
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(days * 86_400));
    assert_eq!(status_of(&app, &format!("/share/{token}")).await, 404);
    let (status, body) = app
        .post(
            &format!("/api/v1/proofs/{}/share-links", s.proof),
            Some(&s.support),
            &json!({"purpose": "friend"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}
both_engines!(share_links, super::share_links);

async fn status_of(app: &TestApp, path: &str) -> u16 {
    app.get_bytes(path, None, None).await.0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A changed byte in the stored (encrypted) blob is an error, never bytes.
async fn tampered_blob(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let key: String = sqlx::query_scalar("SELECT blob_key FROM proofs WHERE id = $1")
        .bind(s.proof)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let path = app.db.dir.path().join("media").join(&key);
    let mut stored = std::fs::read(&path).unwrap();
    assert!(
        !stored.windows(16).any(|w| w == &s.file[1000..1016]),
        "the stored blob is encrypted"
    );
    let at = stored.len() - 70_000;
    stored[at] ^= 0x40;
    std::fs::write(&path, &stored).unwrap();
    // The header is intact, so the response may start; it must break off
    // before the damaged chunk rather than deliver altered bytes (whether
    // the client sees the break before or after the status line).
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/proofs/{}/content", s.proof)))
        .bearer_auth(&s.support)
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status(), 200);
        assert!(
            res.bytes().await.is_err(),
            "a damaged proof must not be served whole"
        );
    }
    // Damage right at the start: an error status, not a stream.
    stored[40] ^= 0x01;
    std::fs::write(&path, &stored).unwrap();
    // (A new connection: the broken-off response closed the last one.)
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/proofs/{}/content", s.proof)))
        .bearer_auth(&s.support)
        .header("Range", "bytes=0-10")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "integrity_check_failed");
}
both_engines!(tampered_blob, super::tampered_blob);

/// A photo with GPS coordinates is stored and logged without them.
async fn photos_lose_their_location(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let jpeg = jpeg_with_gps();
    let id = app.upload_proof(&s.packer, &s.mine, &jpeg, 1 << 20).await;
    let (_, view) = app.get(&format!("/api/v1/proofs/{id}"), &s.support).await;
    assert_eq!(view["media_type"], "image/jpeg");
    let (_, _, stored) = app
        .get_bytes(
            &format!("/api/v1/proofs/{id}/content"),
            Some(&s.support),
            None,
        )
        .await;
    let stored = stored.unwrap();
    assert!(stored.len() < jpeg.len());
    assert!(
        !contains(&stored, b"GPS-SECRET") && !contains(&stored, &LATITUDE),
        "location metadata stripped"
    );
    assert_eq!(
        view["sha256"],
        hex(&Sha256::digest(&stored)),
        "the logged hash is of the stored photo"
    );
    assert_eq!(view["size"], stored.len());
}
both_engines!(
    photos_lose_their_location,
    super::photos_lose_their_location
);

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// 23° 48' 36" N as EXIF rationals (Dhaka), recognisable in the bytes.
const LATITUDE: [u8; 24] = [
    0, 0, 0, 23, 0, 0, 0, 1, 0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 36, 0, 0, 0, 1,
];

/// A small JPEG from ffmpeg with an EXIF block holding a GPS IFD.
fn jpeg_with_gps() -> Vec<u8> {
    let plain = common::tus::ffmpeg(
        &["-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1"],
        "p.jpg",
    );
    // TIFF (big endian): IFD0 with one entry, the GPS IFD pointer; the GPS
    // IFD with GPSLatitude (3 rationals) and a text tag carrying a marker.
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 64]);
    tiff.extend_from_slice(&[0, 0x1b, 0, 7, 0, 0, 0, 10, 0, 0, 0, 88]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(tiff.len(), 26 + 2 + 24 + 4);
    tiff.resize(64, 0);
    tiff.extend_from_slice(&LATITUDE);
    tiff.extend_from_slice(b"GPS-SECRET");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut jpeg = plain[..2].to_vec();
    jpeg.extend_from_slice(&[0xFF, 0xE1]);
    jpeg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    jpeg.extend_from_slice(&app1);
    jpeg.extend_from_slice(&plain[2..]);
    jpeg
}

/// A real recording: ffprobe fills in duration, size and sound, and a
/// poster frame is served; on the S3 media path as well.
async fn real_video_inspected(engine: Engine, media: Media) {
    let app = common::spawn_with_media(engine, media).await;
    let s = scene(&app).await;
    let clip = real_mp4();
    let id = app.upload_proof(&s.packer, &s.mine, &clip, 100_000).await;
    let mut view = Value::Null;
    for _ in 0..100 {
        view = app.get(&format!("/api/v1/proofs/{id}"), &s.support).await.1;
        if view["duration_ms"].is_number() && view["has_poster"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let duration = view["duration_ms"].as_i64().unwrap_or(0);
    assert!((1850..=2150).contains(&duration), "{view}");
    assert_eq!(
        (view["width"].as_i64(), view["height"].as_i64()),
        (Some(320), Some(240))
    );
    assert_eq!(view["has_audio"], true);
    let (status, headers, poster) = app
        .get_bytes(
            &format!("/api/v1/proofs/{id}/poster"),
            Some(&s.support),
            None,
        )
        .await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (200, "image/jpeg")
    );
    assert_eq!(&poster.unwrap()[..2], &[0xFF, 0xD8]);
    let (_, _, back) = app
        .get_bytes(
            &format!("/api/v1/proofs/{id}/content"),
            Some(&s.support),
            Some("bytes=1000-"),
        )
        .await;
    assert!(back.unwrap() == clip[1000..]);
}

mod real_video {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_local_folder() {
        real_video_inspected(Engine::Sqlite, Media::Local).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_s3() {
        real_video_inspected(Engine::Postgres, Media::S3).await
    }
}

/// The order pages show proofs to those who may see them: support with a
/// player, hashes, receipt and share links; the owning customer with a
/// player; a packer not at all.
async fn order_pages_show_proofs(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let owner = customer_token(&app, 0).await;
    let page = |path: String, token: String| {
        let req = app.http.get(app.url(&path)).bearer_auth(token);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let sha = hex(&Sha256::digest(&s.file));
    let (status, html) = page(
        format!("/staff/orders/{}?lang=en", s.mine),
        s.support.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("src=\"/api/v1/proofs/{}/content\"", s.proof)),
        "a player: {html}"
    );
    assert!(
        html.contains(&sha)
            && html.contains("Download the receipt")
            && html.contains("Make a share link")
    );
    let (status, html) = page(
        format!("/staff/orders/{}?lang=en", s.mine),
        s.packer.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("/api/v1/proofs/") && !html.contains(&sha),
        "packers do not browse proof"
    );
    let (status, html) = page(format!("/account/orders/{}?lang=en", s.mine), owner).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("src=\"/api/v1/proofs/{}/content\"", s.proof))
            && html.contains(&sha)
    );
    assert!(
        !html.contains("Make a share link"),
        "customers do not make share links"
    );
}
both_engines!(order_pages_show_proofs, super::order_pages_show_proofs);

/// Destroying the customer's key (what erasure will do) leaves their proofs
/// unreadable: the server cannot open them, and the stored bytes never held
/// the plaintext.
async fn proofs_die_with_the_customer_key(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let (status, _, _) = app
        .get_bytes(
            &format!("/api/v1/proofs/{}/content", s.proof),
            Some(&s.support),
            Some("bytes=0-9"),
        )
        .await;
    assert_eq!(status, 206);
    sqlx::query("DELETE FROM customer_keys WHERE customer_id = (SELECT customer_id FROM proofs WHERE id = $1)")
        .bind(s.proof)
        .execute(&app.services.db().pool)
        .await
        .unwrap();
    let restarted = app.restart().await;
    let (status, _, _) = restarted
        .get_bytes(
            &format!("/api/v1/proofs/{}/content", s.proof),
            Some(&s.support),
            Some("bytes=0-9"),
        )
        .await;
    assert_eq!(status, 500, "the file cannot be opened any more");
    for file in std::fs::read_dir(app.db.dir.path().join("media").join("proofs")).unwrap() {
        for blob in std::fs::read_dir(file.unwrap().path()).unwrap() {
            let bytes = std::fs::read(blob.unwrap().path()).unwrap();
            assert!(
                !contains(&bytes, &s.file[5000..5064]),
                "no plaintext at rest"
            );
        }
    }
}
both_engines!(
    proofs_die_with_the_customer_key,
    super::proofs_die_with_the_customer_key
);
