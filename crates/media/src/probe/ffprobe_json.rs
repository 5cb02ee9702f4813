//! The parts of ffprobe's JSON report that [`MediaInfo`] is made from.

use std::fmt;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::MediaInfo;

/// What ffprobe is asked to report: only these entries, so that metadata
/// tags (which may hold a location) never even reach this process.
pub(super) const SHOW_ENTRIES: &str = "format=format_name,duration:\
     stream=codec_type,codec_name,width,height:\
     packet=pts_time,duration_time";

#[derive(Debug, Deserialize)]
pub(super) struct FfprobeReport {
    #[serde(default)]
    format: FormatEntry,
    #[serde(default)]
    streams: Vec<StreamEntry>,
    #[serde(default)]
    packets: PacketSpan,
}

#[derive(Debug, Default, Deserialize)]
struct FormatEntry {
    format_name: Option<String>,
    duration: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StreamEntry {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct PacketEntry {
    pts_time: Option<String>,
    duration_time: Option<String>,
}

impl FfprobeReport {
    /// `layout_ms` is the length the container's own layout shows (see
    /// [`super::layout`]), which wins over ffprobe's for a video.
    pub(super) fn into_media_info(self, layout_ms: Option<u64>) -> MediaInfo {
        let duration_ms = if self.is_still_image() {
            None
        } else {
            layout_ms.or_else(|| {
                self.duration_seconds()
                    .map(|seconds| (seconds * 1000.0).round() as u64)
            })
        };
        let first_of = |codec_type: &str| {
            self.streams
                .iter()
                .find(|stream| stream.codec_type.as_deref() == Some(codec_type))
        };
        let video = first_of("video");
        let audio = first_of("audio");
        MediaInfo {
            duration_ms,
            width: video.and_then(|stream| stream.width),
            height: video.and_then(|stream| stream.height),
            video_codec: video.and_then(|stream| stream.codec_name.clone()),
            audio_codec: audio.and_then(|stream| stream.codec_name.clone()),
            has_audio: audio.is_some(),
        }
    }

    /// ffmpeg's still-image demuxers are all named "<codec>_pipe"; their
    /// single packet has a nominal frame duration that is not a length.
    fn is_still_image(&self) -> bool {
        self.format
            .format_name
            .as_deref()
            .is_some_and(|name| name.ends_with("_pipe"))
    }

    fn duration_seconds(&self) -> Option<f64> {
        // Browsers' MediaRecorder writes WebM live, before the length is
        // known, so the header has none and only the packets tell.
        seconds(self.format.duration.as_deref()).or_else(|| self.packets.duration_seconds())
    }
}

fn seconds(value: Option<&str>) -> Option<f64> {
    value?
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
}

/// Earliest start and latest end over all packets, folded while parsing so
/// that a long video's packet list is never held in memory.
#[derive(Debug, Default, PartialEq)]
struct PacketSpan {
    start: Option<f64>,
    end: Option<f64>,
}

impl PacketSpan {
    fn add(&mut self, packet: &PacketEntry) {
        let Some(pts) = packet
            .pts_time
            .as_deref()
            .and_then(|pts| pts.parse::<f64>().ok())
        else {
            return;
        };
        let end = pts + seconds(packet.duration_time.as_deref()).unwrap_or(0.0);
        self.start = Some(self.start.map_or(pts, |start| start.min(pts)));
        self.end = Some(self.end.map_or(end, |latest| latest.max(end)));
    }

    fn duration_seconds(&self) -> Option<f64> {
        Some(self.end? - self.start?).filter(|seconds| seconds.is_finite() && *seconds > 0.0)
    }
}

impl<'de> Deserialize<'de> for PacketSpan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpanVisitor;

        impl<'de> Visitor<'de> for SpanVisitor {
            type Value = PacketSpan;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a list of packets")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut packets: A) -> Result<PacketSpan, A::Error> {
                let mut span = PacketSpan::default();
                while let Some(packet) = packets.next_element::<PacketEntry>()? {
                    span.add(&packet);
                }
                Ok(span)
            }
        }

        deserializer.deserialize_seq(SpanVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(json: &str) -> MediaInfo {
        serde_json::from_str::<FfprobeReport>(json)
            .unwrap()
            .into_media_info(None)
    }

    #[test]
    fn header_duration_wins_over_packets() {
        let media = info(
            r#"{"packets": [{"pts_time": "0.0", "duration_time": "9.0"}],
                "streams": [{"codec_type": "audio", "codec_name": "aac"},
                            {"codec_type": "video", "codec_name": "h264", "width": 320, "height": 240}],
                "format": {"format_name": "mov,mp4", "duration": "2.0004"}}"#,
        );
        assert_eq!(
            media,
            MediaInfo {
                duration_ms: Some(2000),
                width: Some(320),
                height: Some(240),
                video_codec: Some("h264".into()),
                audio_codec: Some("aac".into()),
                has_audio: true,
            }
        );
    }

    #[test]
    fn packets_give_the_duration_when_the_header_has_none() {
        let media = info(
            r#"{"packets": [{"pts_time": "-0.007", "duration_time": "0.020"},
                            {"pts_time": "1.967", "duration_time": "0.033"},
                            {"pts_time": "1.994"},
                            {"pts_time": "N/A", "duration_time": "50"}],
                "format": {"format_name": "matroska,webm"}}"#,
        );
        assert_eq!(media.duration_ms, Some(2007));
        assert!(!media.has_audio);
    }

    #[test]
    fn still_images_have_no_duration() {
        let media = info(
            r#"{"packets": [{"pts_time": "0.000000", "duration_time": "0.040000"}],
                "streams": [{"codec_type": "video", "codec_name": "mjpeg", "width": 9, "height": 7}],
                "format": {"format_name": "jpeg_pipe"}}"#,
        );
        assert_eq!(media.duration_ms, None);
        assert_eq!((media.width, media.height), (Some(9), Some(7)));
    }
}
