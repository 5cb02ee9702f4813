//! Excerpts cut through the loopback server from a camera-app MP4 (index
//! after the media, which a pipe cannot read) and from a browser's live
//! WebM: the right stretch, H.264 with AAC sound, within the size limit.
mod common;

use chotomoni_media::{ExcerptSpec, FfmpegTools};
use common::ffprobe_entries;
use std::process::Command;
use std::sync::Arc;

/// A 10-second video in `format` with a second counter burnt in, so the
/// excerpt's first frame tells where it was cut.
fn video(extra: &[&str], name: &str) -> Vec<u8> {
    let path = std::env::temp_dir().join(format!("cm-excerpt-{}-{name}", std::process::id()));
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "10",
        ])
        .args(extra)
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

fn spec(start_ms: u64, length_ms: u64) -> ExcerptSpec {
    ExcerptSpec {
        start_ms,
        length_ms,
        max_bytes: 30_000_000,
        caption: "CM-000123".into(),
        clock_origin: Some(1_733_050_000),
        clock_zone: "+06".into(),
    }
}

fn duration(bytes: &[u8]) -> f64 {
    let report = ffprobe_entries(bytes, "format=duration");
    report["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn codecs(bytes: &[u8]) -> Vec<String> {
    let report = ffprobe_entries(bytes, "stream=codec_name");
    report["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["codec_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mp4_with_its_index_at_the_end_is_cut_where_asked() {
    let source = video(
        &[
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mp4",
        ],
        "moov-at-end.mp4",
    );
    let excerpt = FfmpegTools::default()
        .excerpt(Arc::new(source), &spec(6_000, 3_000))
        .await
        .unwrap();
    assert!(
        (duration(&excerpt) - 3.0).abs() < 0.2,
        "{}",
        duration(&excerpt)
    );
    assert_eq!(codecs(&excerpt), ["h264", "aac"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_webm_gets_aac_sound_and_stays_under_the_size_limit() {
    let source = video(
        &[
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-b:v",
            "300k",
            "-c:a",
            "libopus",
            "-f",
            "webm",
        ],
        "live.webm",
    );
    let excerpt = FfmpegTools::default()
        .excerpt(Arc::new(source.clone()), &spec(0, 60_000))
        .await
        .unwrap();
    assert!(
        (duration(&excerpt) - 10.0).abs() < 0.3,
        "{}",
        duration(&excerpt)
    );
    assert_eq!(codecs(&excerpt), ["h264", "aac"]);

    // A limit the whole stretch would exceed ends the excerpt early, under it.
    let mut small = spec(0, 60_000);
    small.max_bytes = 1_500_000;
    let capped = FfmpegTools::default()
        .excerpt(Arc::new(source), &small)
        .await
        .unwrap();
    assert!(capped.len() <= 1_500_000, "{}", capped.len());
    assert!(
        excerpt.len() > 1_500_000,
        "the whole would not have fitted: {}",
        excerpt.len()
    );
    let shorter = duration(&capped);
    assert!(shorter > 1.0 && shorter < 9.0, "{shorter}");
}
