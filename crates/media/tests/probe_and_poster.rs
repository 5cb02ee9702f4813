mod common;

use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use chotomoni_media::{poster, probe, sniff, FfmpegTools, MediaInfo, MediaType, ProbeError};
use common::{assert_no_location, camera_exif, dimensions, ffprobe_entries, Fixture};
use img_parts::jpeg::Jpeg;
use img_parts::{Bytes, ImageEXIF};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

async fn probe_fixture(fixture: Fixture) -> MediaInfo {
    probe(Cursor::new(fixture.bytes())).await.unwrap()
}

fn assert_about_two_seconds(info: &MediaInfo) {
    let duration = info.duration_ms.expect("a video has a duration");
    assert!(duration.abs_diff(2000) <= 150, "duration {duration} ms");
}

#[tokio::test]
async fn fragmented_mp4_as_browsers_record_it() {
    let info = probe_fixture(Fixture::FragmentedMp4).await;
    assert_about_two_seconds(&info);
    assert_eq!((info.width, info.height), (Some(320), Some(240)));
    assert_eq!(info.video_codec.as_deref(), Some("h264"));
    assert_eq!(info.audio_codec.as_deref(), Some("aac"));
    assert!(info.has_audio);
}

#[tokio::test]
async fn live_webm_duration_comes_from_the_packets() {
    let header = ffprobe_entries(&Fixture::LiveWebm.bytes(), "format=duration");
    assert!(
        header["format"].get("duration").is_none(),
        "the WebM header must lack a duration for this test to mean anything: {header}"
    );
    let info = probe_fixture(Fixture::LiveWebm).await;
    assert_about_two_seconds(&info);
    assert_eq!((info.width, info.height), (Some(320), Some(240)));
    assert_eq!(info.video_codec.as_deref(), Some("vp8"));
    assert_eq!(info.audio_codec.as_deref(), Some("opus"));
    assert!(info.has_audio);
}

#[tokio::test]
async fn photos_have_size_but_no_duration_or_audio() {
    for (fixture, codec) in [
        (Fixture::Jpeg, "mjpeg"),
        (Fixture::Png, "png"),
        (Fixture::Webp, "webp"),
    ] {
        let info = probe_fixture(fixture).await;
        assert_eq!(
            info,
            MediaInfo {
                duration_ms: None,
                width: Some(320),
                height: Some(240),
                video_codec: Some(codec.to_owned()),
                audio_codec: None,
                has_audio: false,
            },
            "{fixture:?}"
        );
    }
}

async fn assert_poster(fixture: Fixture, max_width: u32, expected: (u64, u64)) {
    let jpeg = poster(Cursor::new(fixture.bytes()), max_width)
        .await
        .unwrap();
    assert_eq!(sniff(&jpeg), Some(MediaType::Jpeg), "{fixture:?}");
    assert_eq!(dimensions(&jpeg), expected, "{fixture:?}");
}

#[tokio::test]
async fn posters_are_scaled_down_jpegs() {
    for fixture in [
        Fixture::FragmentedMp4,
        Fixture::LiveWebm,
        Fixture::Jpeg,
        Fixture::Png,
        Fixture::Webp,
    ] {
        assert_poster(fixture, 160, (160, 120)).await;
    }
}

#[tokio::test]
async fn posters_are_never_scaled_up() {
    assert_poster(Fixture::Jpeg, 1000, (320, 240)).await;
}

#[tokio::test]
async fn posters_carry_no_metadata() {
    let mut jpeg = Jpeg::from_bytes(Bytes::from(Fixture::Jpeg.bytes())).unwrap();
    jpeg.set_exif(Some(Bytes::from(camera_exif(6))));
    let with_location = jpeg.encoder().bytes().to_vec();

    let thumbnail = poster(Cursor::new(with_location), 160).await.unwrap();

    assert_no_location(&thumbnail);
    let thumbnail = Jpeg::from_bytes(Bytes::from(thumbnail)).unwrap();
    assert_eq!(thumbnail.exif(), None);
}

#[tokio::test]
async fn poster_stops_reading_once_it_has_a_frame() {
    // An endless input: the poster only finishes if ffmpeg closing its
    // stdin after the first frame is taken as normal.
    let endless = Cursor::new(Fixture::FragmentedMp4.bytes()).chain(tokio::io::repeat(0));
    let tools = FfmpegTools {
        timeout: Duration::from_secs(20),
        ..FfmpegTools::default()
    };
    let jpeg = tools.poster(endless, 160).await.unwrap();
    assert_eq!(dimensions(&jpeg), (160, 120));
}

#[tokio::test]
async fn mp4_with_index_at_the_end_probes_but_gives_no_poster() {
    let info = probe_fixture(Fixture::MoovAtEndMp4).await;
    assert_about_two_seconds(&info);
    assert_eq!((info.width, info.height), (Some(320), Some(240)));

    let refused = poster(Cursor::new(Fixture::MoovAtEndMp4.bytes()), 160).await;
    assert!(
        matches!(refused, Err(ProbeError::Rejected { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn text_is_not_media() {
    let text = || Cursor::new(b"Order 1234 was packed by Rina.\n".to_vec());
    let probed = probe(text()).await;
    assert!(
        matches!(probed, Err(ProbeError::Rejected { .. })),
        "{probed:?}"
    );
    let drawn = poster(text(), 160).await;
    assert!(
        matches!(drawn, Err(ProbeError::Rejected { .. })),
        "{drawn:?}"
    );
}

#[tokio::test]
async fn missing_tools_are_named() {
    let tools = FfmpegTools {
        ffprobe: "chotomoni-test-no-such-ffprobe".into(),
        ..FfmpegTools::default()
    };
    let error = tools.probe(Cursor::new(Vec::new())).await.unwrap_err();
    assert!(
        matches!(error, ProbeError::NotInstalled { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "chotomoni-test-no-such-ffprobe was not found on PATH; install Debian's ffmpeg package"
    );
}

#[tokio::test]
async fn a_stalled_input_times_out() {
    let (_writer_kept_open, stalled) = tokio::io::duplex(64);
    let tools = FfmpegTools {
        timeout: Duration::from_millis(300),
        ..FfmpegTools::default()
    };
    let started = Instant::now();
    let error = tools.probe(stalled).await.unwrap_err();
    assert!(matches!(error, ProbeError::TimedOut { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Gives some media, then fails like a broken decrypting reader would.
struct FailingReader {
    head: Cursor<Vec<u8>>,
}

impl AsyncRead for FailingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.head).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() == before => {
                Poll::Ready(Err(std::io::Error::other("authentication tag mismatch")))
            }
            other => other,
        }
    }
}

#[tokio::test]
async fn a_failing_input_is_reported_as_such() {
    let head = Fixture::FragmentedMp4.bytes()[..4096].to_vec();
    let error = probe(FailingReader {
        head: Cursor::new(head),
    })
    .await
    .unwrap_err();
    assert!(matches!(error, ProbeError::Input(_)), "{error:?}");
    assert!(error.to_string().contains("authentication tag mismatch"));
}

#[tokio::test]
async fn a_poster_needs_a_width() {
    let error = poster(Cursor::new(Fixture::Jpeg.bytes()), 0)
        .await
        .unwrap_err();
    assert!(matches!(error, ProbeError::ZeroWidth));
}
