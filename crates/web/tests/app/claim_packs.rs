//! Claim packs on both engines: support makes one for a courier; the job
//! builds it; the ZIP holds the original proofs byte for byte with their
//! receipts (which verify against the log's key), an H.264/AAC excerpt of
//! each video from the chosen start, a summary without the customer's
//! contact unless asked for, and the log's key. The recipient's link opens
//! it until revoked; each opening is in the audit and disclosure logs.
//! Refused: an excerpt start beyond its video, contact a marketplace may
//! not have, a packer, a customer, a forged link.
use crate::common;

use crate::claims_desk::{page, submit};
use chotomoni_domain::{JobKind, Role};
use chotomoni_testkit::{both_engines, Engine};
use common::html::csrf_of;
use common::privacy::claim_scene;
use common::tus::{ffmpeg, real_mp4};
use common::TestApp;
use serde_json::{json, Value};
use std::io::{Cursor, Read};

/// A 6-second video as a phone's camera app writes it: its index after
/// the media data, which ffmpeg cannot read from a pipe.
fn camera_mp4() -> Vec<u8> {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330",
            "-t",
            "6",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
        "camera.mp4",
    )
}

type Zip = zip::ZipArchive<Cursor<Vec<u8>>>;

fn entry(zip: &mut Zip, name: &str) -> Vec<u8> {
    let mut out = vec![];
    zip.by_name(name)
        .unwrap_or_else(|_| panic!("{name} is in the pack"))
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn names(zip: &Zip) -> Vec<String> {
    zip.file_names().map(|n| n.unwrap().into_owned()).collect()
}

fn probe(bytes: &[u8], entries: &str) -> Value {
    let mut child = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_entries",
            entries,
            "-i",
            "pipe:0",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, &input);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn built(app: &TestApp, claim: i64, pack: i64, token: &str) -> Value {
    for _ in 0..600 {
        let _ = app.services.run_jobs_of(JobKind::ClaimPackBuild).await;
        let (status, list) = app
            .get(&format!("/api/v1/claims/{claim}/packs"), token)
            .await;
        assert_eq!(status, 200, "{list}");
        let view = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == pack)
            .cloned()
            .unwrap();
        if view["status"] != "building" {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("pack {pack} was not built in 60 s");
}

async fn download(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = app.http.get(app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap()
}

async fn packs(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    let packing_clip = camera_mp4();
    let scene = claim_scene(&app, &admin, &packer, "01711000601", &packing_clip).await;
    let scene_customer = scene.customer_id;
    let (number, customer, packing, id) =
        (scene.number, scene.customer, scene.packing, scene.claim);
    let unboxing_clip = real_mp4();
    let unboxing = app
        .upload_evidence(&customer, &number, &unboxing_clip)
        .await;
    // Inspected (here or by the app's own worker): their lengths are known.
    let mut lengths = vec![];
    for _ in 0..300 {
        app.services
            .run_jobs_of(JobKind::ProofInspect)
            .await
            .unwrap();
        lengths = vec![];
        for proof in [packing, unboxing] {
            let (_, shown) = app.get(&format!("/api/v1/proofs/{proof}"), &support).await;
            lengths.extend(shown["duration_ms"].as_i64());
        }
        if lengths.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(lengths.len() == 2 && lengths[0] >= 5_900, "{lengths:?}");

    let make = |body: Value, token: String| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/claims/{id}/packs"), Some(&token), &body)
                .await
        }
    };
    let courier = json!({"purpose": "courier_claim",
                         "excerpts": [{"proof": packing, "start_ms": 2_000}]});
    // Who may not, and what is refused.
    assert_eq!(make(courier.clone(), packer.clone()).await.0, 403);
    assert_eq!(make(courier.clone(), customer.clone()).await.0, 401);
    let (status, body) = make(
        json!({"purpose": "courier_claim", "excerpts": [{"proof": packing, "start_ms": 6_500}]}),
        support.clone(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "excerpts[0].start_ms", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("long"),
        "{body}"
    );
    let (status, body) = make(
        json!({"purpose": "marketplace_claim", "include_contact": true}),
        support.clone(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "include_contact", "{body}");
    let (status, body) = make(
        json!({"purpose": "courier_claim", "excerpts": [{"proof": 999_999, "start_ms": 0}]}),
        support.clone(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("excerpts[0].proof"))
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM claim_packs").await,
        0,
        "nothing half-made"
    );

    let disclosed_before = scalar(&app, "SELECT COUNT(*) FROM disclosures").await;
    let (status, pack) = make(courier, support.clone()).await;
    assert_eq!(status, 202, "{pack}");
    assert_eq!(pack["status"], "building");
    let pack_id = pack["id"].as_i64().unwrap();
    let view = built(&app, id, pack_id, &support).await;
    assert_eq!(view["status"], "ready", "{view}");

    let (status, bytes) = download(
        &app,
        &format!("/api/v1/claim-packs/{pack_id}/content"),
        Some(&support),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(bytes.len() as i64, view["size"].as_i64().unwrap());
    let mut zip = Zip::new(Cursor::new(bytes.clone())).unwrap();
    let all = names(&zip);
    let original = |proof: i64| {
        all.iter()
            .find(|n| n.starts_with("originals/") && n.contains(&format!("-{proof}.")))
            .cloned()
            .unwrap_or_else(|| panic!("proof {proof} is in {all:?}"))
    };
    let log_key = String::from_utf8(entry(&mut zip, "log-key.txt")).unwrap();
    let (_, published) = download(&app, "/.well-known/chotomoni-log-key", None).await;
    assert_eq!(log_key.trim(), String::from_utf8(published).unwrap().trim());
    for (proof, clip) in [(packing, &packing_clip), (unboxing, &unboxing_clip)] {
        let name = original(proof);
        let file = entry(&mut zip, &name);
        assert!(
            file == *clip,
            "{name} is byte-identical to what was recorded"
        );
        let stem = name
            .trim_start_matches("originals/")
            .rsplit_once('.')
            .unwrap()
            .0
            .to_owned();
        let receipt: chotomoni_translog::Receipt =
            serde_json::from_slice(&entry(&mut zip, &format!("receipts/{stem}.receipt.json")))
                .unwrap();
        chotomoni_translog::verify_receipt(&file[..], &receipt, Some(log_key.trim()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut changed = file.clone();
        changed[100] ^= 1;
        assert!(
            chotomoni_translog::verify_receipt(&changed[..], &receipt, Some(log_key.trim()))
                .is_err()
        );
    }
    // Excerpts: the packing video's from 2 s to its end, the unboxing
    // video's whole; H.264 with AAC sound.
    let excerpt = |stem: &str| {
        all.iter()
            .find(|n| n.starts_with("excerpts/") && n.contains(stem))
            .cloned()
            .unwrap_or_else(|| panic!("an excerpt of {stem} in {all:?}"))
    };
    for (proof, from, seconds) in [(packing, "from-2s", 4.0), (unboxing, "from-0s", 2.0)] {
        let name = excerpt(&format!("-{proof}-{from}"));
        let video = entry(&mut zip, &name);
        let report = probe(&video, "stream=codec_name:format=duration");
        let codecs: Vec<&str> = report["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["codec_name"].as_str().unwrap())
            .collect();
        assert_eq!(codecs, ["h264", "aac"], "{name}");
        let duration: f64 = report["format"]["duration"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (duration - seconds).abs() < 0.3,
            "{name} lasts {duration} s"
        );
    }
    // The offline verifier names every original and carries the log's key.
    let verifier = String::from_utf8(entry(&mut zip, "verify.html")).unwrap();
    assert!(verifier.contains(log_key.trim()));
    for proof in [packing, unboxing] {
        assert!(
            verifier.contains(&original(proof)),
            "{proof} in verify.html"
        );
    }
    let summary = String::from_utf8(entry(&mut zip, "summary.txt")).unwrap();
    assert!(
        summary.contains(&number) && summary.contains("Damaged") && summary.contains("ক্ষতিগ্রস্ত"),
        "{summary}"
    );
    // Each original is listed with its excerpt's exact name.
    let packing_excerpt = excerpt(&format!("-{packing}-from-2s"));
    assert!(summary.contains(&packing_excerpt), "{summary}");
    for personal in ["Nasrin", "01711000601", "1711000601"] {
        assert!(!summary.contains(personal), "{personal} in {summary}");
    }

    // The recipient's link: the same ZIP without signing in, in the audit
    // and disclosure logs each time; a forged link and a revoked one are 404.
    let token = view["token"].as_str().unwrap();
    let (status, shared) = download(&app, &format!("/share/packs/{token}"), None).await;
    assert_eq!(status, 200);
    assert!(shared == bytes);
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'claim_pack.shared_open'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM disclosures").await,
        disclosed_before + 2,
        "made and opened"
    );
    let mut forged = token.to_owned();
    forged.replace_range(
        forged.len() - 2..,
        if token.ends_with("AA") { "AB" } else { "AA" },
    );
    assert_eq!(
        download(&app, &format!("/share/packs/{forged}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/claim-packs/{pack_id}/revoke"),
            Some(&packer),
            &json!({})
        )
        .await
        .0,
        403
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/claim-packs/{pack_id}/revoke"),
            Some(&support),
            &json!({})
        )
        .await
        .0,
        204
    );
    assert_eq!(
        download(&app, &format!("/share/packs/{token}"), None)
            .await
            .0,
        404
    );

    // Decided, and with the contact chosen: a courier's pack names the
    // recipient and says how the claim was settled.
    assert_eq!(
        app.post(
            &format!("/api/v1/claims/{id}/review"),
            Some(&support),
            &json!({})
        )
        .await
        .0,
        200
    );
    let (status, decided) = app
        .post(
            &format!("/api/v1/claims/{id}/decision"),
            Some(&support),
            &json!({"decision": "partial_refund", "amount": 5_000, "reason": "Crushed in transit"}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    let (status, pack) = make(
        json!({"purpose": "courier_claim", "include_contact": true}),
        support.clone(),
    )
    .await;
    assert_eq!(status, 202, "{pack}");
    let with_contact = pack["id"].as_i64().unwrap();
    assert_eq!(
        built(&app, id, with_contact, &support).await["status"],
        "ready"
    );
    let (_, bytes) = download(
        &app,
        &format!("/api/v1/claim-packs/{with_contact}/content"),
        Some(&support),
    )
    .await;
    let mut zip = Zip::new(Cursor::new(bytes)).unwrap();
    let summary = String::from_utf8(entry(&mut zip, "summary.txt")).unwrap();
    assert!(
        summary.contains("Nasrin Akter") && summary.contains("1711000601"),
        "{summary}"
    );
    assert!(
        summary.contains("Decision: Partial refund")
            && summary.contains("Refund: Tk 50.00")
            && summary.contains("Crushed in transit"),
        "{summary}"
    );

    // From the claim's page: the packs with their links, and the form with
    // a start for each video; a start beyond the video is shown again, 422.
    let (status, html) = page(&app, &support, &format!("/staff/claims/{id}?lang=en")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(&format!("/share/packs/{}", pack["token"].as_str().unwrap())),
        "{html}"
    );
    assert!(
        html.contains(&format!("name=\"start_{packing}\"")),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let start_field = format!("start_{packing}");
    let form = |start: &'static str| {
        [
            ("csrf", csrf.as_str()),
            ("purpose", "marketplace_claim"),
            (start_field.as_str(), start),
        ]
    };
    let path = format!("/staff/claims/{id}/packs");
    let (status, refused) = submit(&app, &support, &path, &form("7.5")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("start_ms"), "{refused}");
    assert_eq!(submit(&app, &support, &path, &form("1.5")).await.0, 303);
    let (_, list) = app
        .get(&format!("/api/v1/claims/{id}/packs"), &support)
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        3,
        "the refused one made nothing: {list}"
    );
    assert_eq!(list[0]["purpose"], "marketplace_claim", "{list}");
    assert_eq!(
        list[0]["excerpts"][0],
        json!({"proof": packing, "start_ms": 1_500}),
        "{list}"
    );
    // Erasing the customer deletes every pack and its file: no link opens
    // one any more.
    let newest = list[0]["id"].as_i64().unwrap();
    let view = built(&app, id, newest, &support).await;
    assert_eq!(view["status"], "ready", "{view}");
    let link = format!("/share/packs/{}", view["token"].as_str().unwrap());
    assert_eq!(download(&app, &link, None).await.0, 200);
    let files: Vec<String> =
        sqlx::query_scalar("SELECT blob_key FROM claim_packs WHERE blob_key IS NOT NULL")
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(files.len(), 3);
    app.erase(scene_customer).await;
    app.run_erasure_cleanup().await;
    assert_eq!(app.count("claim_packs").await, 0);
    for file in &files {
        assert!(
            app.services.proofs().blobs.size(file).await.is_err(),
            "{file} is gone"
        );
    }
    assert_eq!(download(&app, &link, None).await.0, 404);
}

both_engines!(
    a_claim_pack_holds_verifiable_originals_and_excerpts,
    super::packs
);
