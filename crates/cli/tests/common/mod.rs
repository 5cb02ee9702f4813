//! What the binary's tests share: uploading a proof over tus as a station does.
use base64::Engine as _;

/// Uploads `file` as a packing proof of `order` in one PATCH; the proof's id.
pub async fn upload_proof(
    http: &reqwest::Client,
    address: &str,
    token: &str,
    order: &str,
    file: &[u8],
) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let created = http
        .post(format!("{address}/api/v1/uploads/"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", file.len().to_string())
        .header(
            "Upload-Metadata",
            format!("order {},kind {}", b64(order), b64("packing")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let done = http
        .patch(format!("{address}{location}"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(file.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 204);
    done.headers()["chotomoni-proof-id"]
        .to_str()
        .unwrap()
        .to_owned()
}
