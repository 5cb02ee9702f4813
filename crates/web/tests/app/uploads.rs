//! The tus upload endpoint, as a client sees it, on both engines: the
//! protocol's headers, pieces across chunk boundaries, every refusal the
//! issue lists (and that nothing is kept after one), disconnects, and a
//! server that died mid-upload.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::fake_mp4;
use chotomoni_testkit::{both_engines, Engine};
use common::tus::metadata;
use sha2::{Digest, Sha256};

async fn order(app: &common::TestApp) -> String {
    let (status, body) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Shapla Akter", "01711000111"),
        )
        .await;
    assert_eq!(status, 201);
    body["number"].as_str().unwrap().to_owned()
}

async fn discovery_and_pieces(engine: Engine) {
    let app = common::spawn(engine).await;
    let number = order(&app).await;
    let packer = app.staff("packer", Role::Packer).await;

    let options = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 204);
    let h = options.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-resumable"], "1.0.0");
    assert_eq!(h["tus-max-size"], "2147483648");
    assert_eq!(h["tus-checksum-algorithm"], "sha256");
    for ext in [
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    ] {
        assert!(
            h["tus-extension"]
                .to_str()
                .unwrap()
                .split(',')
                .any(|e| e == ext),
            "{ext}"
        );
    }

    // Pieces that start and end inside, at, and across 64 KiB chunks.
    let file = fake_mp4(300_000);
    let path = app.tus_start(&packer, &number, file.len() as u64).await;
    let head = app.tus_head(&packer, &path).await;
    assert_eq!(head.status, 200, "{path}: {:?}", head.headers);
    assert_eq!(head.offset(), 0);
    assert_eq!(head.header("upload-length").as_deref(), Some("300000"));
    assert_eq!(head.header("cache-control").as_deref(), Some("no-store"));
    assert!(head.header("upload-expires").unwrap().ends_with(" GMT"));
    let mut offset = 0u64;
    for size in [10usize, 65_526, 65_536, 1, 100_000, 68_927] {
        let part = &file[offset as usize..offset as usize + size];
        let res = app
            .tus_patch(&packer, &path, offset, part, Some(part))
            .await;
        assert_eq!(res.status, 204, "{}", res.body);
        offset += size as u64;
        assert_eq!(res.offset(), offset);
        if offset < file.len() as u64 {
            assert_eq!(app.tus_head(&packer, &path).await.offset(), offset);
        }
    }
    assert_eq!(offset, file.len() as u64);
    assert_eq!(app.count("uploads").await, 0, "the finished upload is gone");
    let proofs = app
        .get(
            &format!("/api/v1/orders/{number}/proofs"),
            &app.staff("support", Role::Support).await,
        )
        .await;
    assert_eq!(proofs.0, 200);
    let proof = &proofs.1[0];
    assert_eq!(proof["sha256"], hex(&Sha256::digest(&file)));
    assert_eq!(proof["size"], 300_000);
    assert_eq!(proof["media_type"], "video/mp4");
    assert_eq!(proof["captured_at"], "2026-11-25T08:03:07Z");
    assert_eq!(proof["uploader"], "staff:1");
    // A client that never heard the last answer asks again: the upload is
    // complete (offset = length) and names its proof, so nothing is sent
    // twice. Only to its uploader, and nothing more is taken.
    let again = app.tus_head(&packer, &path).await;
    assert_eq!(again.status, 200, "{:?}", again.headers);
    assert_eq!(again.offset(), 300_000);
    assert_eq!(again.header("upload-length").as_deref(), Some("300000"));
    assert_eq!(
        again.header("chotomoni-proof-id"),
        Some(proof["id"].to_string())
    );
    let support = app.staff("support2", Role::Support).await;
    assert_eq!(app.tus_head(&support, &path).await.status, 404);
    let more = app.tus_patch(&packer, &path, 300_000, b"more", None).await;
    assert_eq!(more.status, 404, "{}", more.body);
    // Once an unfinished upload would have expired, the URL is gone.
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(24 * 3600 + 60));
    assert_eq!(app.tus_head(&packer, &path).await.status, 404);
}
both_engines!(discovery_and_pieces, super::discovery_and_pieces);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn refusals(engine: Engine) {
    let app = common::spawn(engine).await;
    let number = order(&app).await;
    let packer = app.staff("packer", Role::Packer).await;
    let meta = |order: &str| metadata(&[("order", order), ("kind", "packing")]);

    // Unknown order at creation: 404, nothing created.
    let res = app.tus_create(&packer, 100, &meta("CM-999999")).await;
    assert_eq!(res.status, 404, "{}", res.body);
    assert_eq!(res.json()["error"]["code"], "not_found");
    // Over the size limit: 413.
    let res = app
        .tus_create(&packer, 3 * 1024 * 1024 * 1024, &meta(&number))
        .await;
    assert_eq!(res.status, 413);
    // A bad kind and a bad time name their field.
    let res = app
        .tus_create(
            &packer,
            100,
            &metadata(&[("order", &number), ("kind", "selfie")]),
        )
        .await;
    assert_eq!(
        (res.status, res.json()["error"]["field"].as_str()),
        (422, Some("metadata.kind"))
    );
    let res = app
        .tus_create(
            &packer,
            100,
            &metadata(&[("order", &number), ("captured_at", "yesterday")]),
        )
        .await;
    assert_eq!(res.json()["error"]["field"], "metadata.captured_at");
    // No Tus-Resumable: 412.
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .bearer_auth(&packer)
        .header("Upload-Length", "5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    // Strangers and staff who do not record proof.
    let res = app.tus_create("not-a-token", 100, &meta(&number)).await;
    assert_eq!(res.status, 401);
    let admin_only = app.staff("admin", Role::Admin).await;
    assert_eq!(
        app.tus_create(&admin_only, 10, &meta(&number)).await.status,
        201
    );
    assert_eq!(app.count("uploads").await, 1);

    let file = fake_mp4(200_000);
    let path = app.tus_start(&packer, &number, file.len() as u64).await;
    assert_eq!(
        app.tus_patch(&packer, &path, 0, &file[..70_000], None)
            .await
            .status,
        204
    );
    // Wrong offset: 409, names the right one.
    let res = app.tus_patch(&packer, &path, 5, &file[5..10], None).await;
    assert_eq!(res.status, 409);
    assert!(res.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("70000"));
    // Checksum mismatch: 460 and nothing appended.
    let res = app
        .tus_patch(
            &packer,
            &path,
            70_000,
            &file[70_000..140_000],
            Some(b"something else"),
        )
        .await;
    assert_eq!(res.status, 460, "{}", res.body);
    assert_eq!(res.json()["error"]["field"], "Upload-Checksum");
    assert_eq!(app.tus_head(&packer, &path).await.offset(), 70_000);
    // Unknown checksum algorithm: 400; wrong content type: 415.
    let res = app
        .tus_patch_raw(
            &packer,
            &path,
            70_000,
            "application/offset+octet-stream",
            Some("md5 AAAA"),
            &[1; 10],
        )
        .await;
    assert_eq!(res.status, 400);
    let res = app
        .tus_patch_raw(&packer, &path, 70_000, "text/plain", None, &[1; 10])
        .await;
    assert_eq!(res.status, 415);
    // More than Upload-Length: 413 and nothing kept.
    let mut too_much = file[70_000..].to_vec();
    too_much.extend_from_slice(b"extra");
    assert_eq!(
        app.tus_patch(&packer, &path, 70_000, &too_much, None)
            .await
            .status,
        413
    );
    assert_eq!(app.tus_head(&packer, &path).await.offset(), 70_000);
    // The rest, checked, completes with the right hash: rejected pieces left no trace.
    let res = app
        .tus_patch(
            &packer,
            &path,
            70_000,
            &file[70_000..],
            Some(&file[70_000..]),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let id = res.header("chotomoni-proof-id").unwrap();
    let support = app.staff("support", Role::Support).await;
    let (_, proof) = app.get(&format!("/api/v1/proofs/{id}"), &support).await;
    assert_eq!(proof["sha256"], hex(&Sha256::digest(&file)));

    // Someone else's upload does not exist for another packer.
    let other = app.staff("packer2", Role::Packer).await;
    let path = app.tus_start(&packer, &number, 100).await;
    assert_eq!(app.tus_head(&other, &path).await.status, 404);
    assert_eq!(
        app.tus_patch(&other, &path, 0, &fake_mp4(100), None)
            .await
            .status,
        404
    );
    // Termination deletes it and its bytes.
    assert_eq!(app.tus_delete(&packer, &path).await.status, 204);
    assert_eq!(app.tus_head(&packer, &path).await.status, 404);

    // Not a photo or video: 415 as soon as the first bytes arrive; the upload is gone.
    let path = app.tus_start(&packer, &number, 5000).await;
    let res = app.tus_patch(&packer, &path, 0, &[b'%'; 100], None).await;
    assert_eq!(res.status, 415, "{}", res.body);
    assert_eq!(app.tus_head(&packer, &path).await.status, 404);
    let staged = std::fs::read_dir(app.db.dir.path().join("uploads"))
        .unwrap()
        .count();
    assert_eq!(
        staged as i64,
        app.count("uploads").await,
        "a staging file per live upload, no more"
    );
}
both_engines!(refusals, super::refusals);

/// Creation-with-upload, and an expired upload swept with its file.
async fn creation_with_upload_and_expiry(engine: Engine) {
    let app = common::spawn(engine).await;
    let number = order(&app).await;
    let packer = app.staff("packer", Role::Packer).await;
    let file = fake_mp4(1000);
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .bearer_auth(&packer)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "1000")
        .header("Upload-Metadata", metadata(&[("order", &number)]))
        .header("Content-Type", "application/offset+octet-stream")
        .body(file[..600].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["upload-offset"], "600");
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        app.tus_patch(&packer, &path, 600, &file[600..], None)
            .await
            .status,
        204
    );

    let path = app.tus_start(&packer, &number, 500).await;
    assert_eq!(
        app.tus_patch(&packer, &path, 0, &file[..200], None)
            .await
            .status,
        204
    );
    let hours = u64::from(app.proof_settings.upload_expiry_hours) + 1;
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(hours * 3600));
    assert_eq!(
        app.tus_head(&packer, &path).await.status,
        404,
        "expired uploads are gone for clients at once"
    );
    assert_eq!(app.services.sweep_expired_uploads().await.unwrap(), 1);
    assert_eq!(app.count("uploads").await, 0);
    assert_eq!(
        std::fs::read_dir(app.db.dir.path().join("uploads"))
            .unwrap()
            .count(),
        0
    );
}
both_engines!(
    creation_with_upload_and_expiry,
    super::creation_with_upload_and_expiry
);

/// A client that loses its connection mid-body keeps what arrived; after a
/// restart (nothing in memory) and leftover bytes of a half-written piece,
/// the upload resumes and the logged hash is the file's.
async fn disconnects_and_restarts(engine: Engine) {
    let app = common::spawn(engine).await;
    let number = order(&app).await;
    let packer = app.staff("packer", Role::Packer).await;
    let file = fake_mp4(1_000_000);
    let path = app.tus_start(&packer, &number, file.len() as u64).await;

    // A body stream that fails after 300,000 bytes: the connection drops.
    // The pieces are paced so they really leave the client first.
    let pieces: Vec<bytes::Bytes> = file[..300_000]
        .chunks(50_000)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    let first = futures::stream::unfold(pieces.into_iter(), |mut rest| async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        match rest.next() {
            Some(piece) => Some((Ok(piece), rest)),
            None => Some((Err(std::io::Error::other("cable pulled")), rest)),
        }
    });
    let res = app
        .http
        .patch(app.url(&path))
        .bearer_auth(&packer)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(reqwest::Body::wrap_stream(first))
        .send()
        .await;
    assert!(res.is_err() || !res.unwrap().status().is_success());
    let mut offset = 0;
    for _ in 0..50 {
        offset = app.tus_head(&packer, &path).await.offset();
        if offset > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        offset > 0 && offset <= 300_000,
        "what arrived was kept: {offset}"
    );

    // A second server over the same database and folders: no running hash
    // in memory. Garbage after the acknowledged bytes (a piece that died
    // before its offset was recorded) is cut off.
    let staged = std::fs::read_dir(app.db.dir.path().join("uploads"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&staged)
        .unwrap();
    std::io::Write::write_all(&mut f, &[0xAB; 5000]).unwrap();
    drop(f);
    let restarted = app.restart().await;
    let res = restarted
        .tus_patch(
            &packer,
            &path,
            offset,
            &file[offset as usize..],
            Some(&file[offset as usize..]),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let id = res.header("chotomoni-proof-id").unwrap();
    let support = restarted.staff("support", Role::Support).await;
    let (_, proof) = restarted
        .get(&format!("/api/v1/proofs/{id}"), &support)
        .await;
    assert_eq!(proof["sha256"], hex(&Sha256::digest(&file)));
    let (status, _, body) = restarted
        .get_bytes(
            &format!("/api/v1/proofs/{id}/content"),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        body.unwrap() == file,
        "the stored file is exactly the uploaded one"
    );
}
both_engines!(disconnects_and_restarts, super::disconnects_and_restarts);
