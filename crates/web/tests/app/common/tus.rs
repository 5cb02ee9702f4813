//! A small tus 1.0.0 client for tests that need to see each header and
//! status (the official JavaScript client is exercised by the e2e suite).
use super::TestApp;
use base64::Engine;
use sha2::{Digest, Sha256};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", B64.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// A response's status and headers (as text) and body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn offset(&self) -> u64 {
        self.header("upload-offset")
            .unwrap_or_else(|| {
                panic!(
                    "no Upload-Offset ({}): {:?} {}",
                    self.status, self.headers, self.body
                )
            })
            .parse()
            .unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    Answer {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap_or_default(),
    }
}

impl TestApp {
    pub async fn tus_create(&self, token: &str, length: u64, meta: &str) -> Answer {
        let res = self
            .http
            .post(self.url("/api/v1/uploads/"))
            .bearer_auth(token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    /// Creates an upload for `order` and returns its URL path.
    pub async fn tus_start(&self, token: &str, order: &str, length: u64) -> String {
        let meta = metadata(&[
            ("order", order),
            ("kind", "packing"),
            ("captured_at", "2026-11-25T14:03:07+06:00"),
            ("filename", "packing.mp4"),
        ]);
        let created = self.tus_create(token, length, &meta).await;
        assert_eq!(created.status, 201, "create: {}", created.body);
        created.header("location").expect("Location")
    }

    pub async fn tus_patch(
        &self,
        token: &str,
        path: &str,
        offset: u64,
        bytes: &[u8],
        checksum: Option<&[u8]>,
    ) -> Answer {
        let sum = checksum.map(|of| format!("sha256 {}", B64.encode(Sha256::digest(of))));
        self.tus_patch_raw(
            token,
            path,
            offset,
            "application/offset+octet-stream",
            sum.as_deref(),
            bytes,
        )
        .await
    }

    /// A PATCH with the content type and checksum header exactly as given.
    pub async fn tus_patch_raw(
        &self,
        token: &str,
        path: &str,
        offset: u64,
        content_type: &str,
        checksum: Option<&str>,
        bytes: &[u8],
    ) -> Answer {
        let mut req = self
            .http
            .patch(self.url(path))
            .bearer_auth(token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", content_type)
            .body(bytes.to_vec());
        if let Some(value) = checksum {
            req = req.header("Upload-Checksum", value);
        }
        answer(req.send().await.unwrap()).await
    }

    /// Cancels an upload (termination).
    pub async fn tus_delete(&self, token: &str, path: &str) -> Answer {
        self.tus_bodiless(reqwest::Method::DELETE, token, path)
            .await
    }

    pub async fn tus_head(&self, token: &str, path: &str) -> Answer {
        self.tus_bodiless(reqwest::Method::HEAD, token, path).await
    }

    async fn tus_bodiless(&self, method: reqwest::Method, token: &str, path: &str) -> Answer {
        let res = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    /// Uploads `file` in pieces of `piece` bytes; returns the proof id.
    /// Uploads `file` in one piece with metadata `meta`; returns the proof's id.
    pub async fn upload_whole(&self, token: &str, meta: &str, file: &[u8]) -> i64 {
        let created = self.tus_create(token, file.len() as u64, meta).await;
        assert_eq!(created.status, 201, "create: {}", created.body);
        let path = created.header("location").expect("Location");
        let done = self.tus_patch(token, &path, 0, file, None).await;
        assert_eq!(done.status, 204, "patch: {}", done.body);
        done.header("chotomoni-proof-id")
            .expect("the last piece names the proof")
            .parse()
            .unwrap()
    }

    /// A customer's unboxing video for the claim open on `order`.
    pub async fn upload_evidence(&self, token: &str, order: &str, file: &[u8]) -> i64 {
        let meta = metadata(&[
            ("order", order),
            ("kind", "claim"),
            ("filename", "unboxing.mp4"),
        ]);
        self.upload_whole(token, &meta, file).await
    }

    pub async fn upload_proof(&self, token: &str, order: &str, file: &[u8], piece: usize) -> i64 {
        let path = self.tus_start(token, order, file.len() as u64).await;
        let mut offset = 0;
        let mut last = None;
        for part in file.chunks(piece) {
            let res = self.tus_patch(token, &path, offset, part, None).await;
            assert_eq!(res.status, 204, "patch at {offset}: {}", res.body);
            offset = res.offset();
            last = Some(res);
        }
        let last = last.expect("a non-empty file");
        last.header("chotomoni-proof-id")
            .expect("the last piece names the proof")
            .parse()
            .unwrap()
    }

    pub async fn get_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        range: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Result<Vec<u8>, String>) {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string());
        (status, headers, body)
    }
}

/// Runs ffmpeg with `args`, writing `out_name` in a temporary folder, and
/// returns the file's bytes.
pub fn ffmpeg(args: &[&str], out_name: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(out_name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg runs (install Debian's ffmpeg)");
    assert!(status.success(), "ffmpeg {args:?}");
    std::fs::read(out).unwrap()
}

/// A real 2-second 320x240 H.264 + AAC MP4 made by ffmpeg (fragmented, as
/// browsers record).
pub fn real_mp4() -> Vec<u8> {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+frag_keyframe+empty_moov",
        ],
        "clip.mp4",
    )
}
