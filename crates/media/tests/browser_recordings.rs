//! Durations of recordings really made by a browser's MediaRecorder, the
//! way the packing station records: written live, so their headers do not
//! hold their length. Our probe reads the media through a pipe, as it
//! reads stored proofs; ffprobe's own answer from the last packet of the
//! whole file is the reference.
mod common;
#[path = "browser_recordings/recorder.rs"]
mod recorder;

use std::io::Cursor;
use std::sync::OnceLock;

use chotomoni_media::probe;
use recorder::Recording;

const FRAGMENTED_MP4: &str = "video/mp4;codecs=avc1,opus";
const WEBM_VP8: &str = "video/webm;codecs=vp8,opus";
const WEBM_VP9: &str = "video/webm;codecs=vp9,opus";
/// Longer than a fragment or two, which is all a live header describes.
const RECORD_MS: u64 = 9500;
/// How far our duration may be from the last packet's end.
const TOLERANCE_MS: u64 = 100;

/// One Chromium run records every type at once, for all the tests.
fn recordings() -> &'static [Recording] {
    static RECORDINGS: OnceLock<Vec<Recording>> = OnceLock::new();
    RECORDINGS.get_or_init(|| recorder::record(&[FRAGMENTED_MP4, WEBM_VP8, WEBM_VP9], RECORD_MS))
}

fn recording(mime_type: &str) -> &'static Recording {
    recordings()
        .iter()
        .find(|recording| recording.mime_type == mime_type)
        .unwrap()
}

/// The end of the last packet less the start of the first, in ms, as
/// ffprobe counts the packets of the whole file.
fn last_packet_end_ms(bytes: &[u8]) -> u64 {
    let report = common::ffprobe_entries(bytes, "packet=pts_time,duration_time");
    let seconds = |packet: &serde_json::Value, field: &str| {
        packet[field]
            .as_str()
            .and_then(|value| value.parse::<f64>().ok())
    };
    let packets = report["packets"].as_array().expect("packets");
    let (start, end) = packets
        .iter()
        .filter_map(|packet| {
            let pts = seconds(packet, "pts_time")?;
            Some((pts, pts + seconds(packet, "duration_time").unwrap_or(0.0)))
        })
        .fold((f64::MAX, f64::MIN), |(start, end), (first, last)| {
            (start.min(first), end.max(last))
        });
    assert!(end > start, "ffprobe found no timed packets");
    ((end - start) * 1000.0).round() as u64
}

async fn assert_real_duration(mime_type: &str) {
    let recording = recording(mime_type);
    let info = probe(Cursor::new(recording.bytes.clone())).await.unwrap();
    let ours = info.duration_ms.expect("a recording has a duration");
    let reference = last_packet_end_ms(&recording.bytes);
    assert!(
        ours.abs_diff(reference) <= TOLERANCE_MS,
        "{mime_type}: probed {ours} ms, the packets span {reference} ms"
    );
    // What the packer would notice: about as long as they recorded.
    assert!(
        ours.abs_diff(recording.recorded_ms) <= 500,
        "{mime_type}: probed {ours} ms of {} ms recorded",
        recording.recorded_ms
    );
    assert!(
        info.has_audio,
        "{mime_type}: the fake microphone was recorded"
    );
}

#[tokio::test]
async fn chromium_fragmented_mp4_with_opus() {
    assert_real_duration(FRAGMENTED_MP4).await;
}

#[tokio::test]
async fn chromium_webm_vp8() {
    assert_real_duration(WEBM_VP8).await;
}

#[tokio::test]
async fn chromium_webm_vp9() {
    assert_real_duration(WEBM_VP9).await;
}
