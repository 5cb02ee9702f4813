//! Test media made with ffmpeg at test time, and ways to check results with
//! ffprobe. Tests may write plaintext files; the library may not.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy)]
pub enum Fixture {
    /// What browsers record: fragmented, index at the front.
    FragmentedMp4,
    /// What many camera apps write: the index after the media data.
    MoovAtEndMp4,
    /// Written like MediaRecorder does, with no duration in the header.
    LiveWebm,
    QuickTime,
    Matroska,
    Jpeg,
    Png,
    Webp,
}

const VIDEO_INPUTS: &[&str] = &[
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240:rate=30",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=48000",
    "-t",
    "2",
];
const PHOTO_INPUT: &[&str] = &[
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240",
    "-frames:v",
    "1",
];
const H264_AAC: &[&str] = &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"];

impl Fixture {
    fn name(self) -> &'static str {
        match self {
            Fixture::FragmentedMp4 => "fragmented.mp4",
            Fixture::MoovAtEndMp4 => "moov-at-end.mp4",
            Fixture::LiveWebm => "live.webm",
            Fixture::QuickTime => "clip.mov",
            Fixture::Matroska => "clip.mkv",
            Fixture::Jpeg => "photo.jpg",
            Fixture::Png => "photo.png",
            Fixture::Webp => "photo.webp",
        }
    }

    fn ffmpeg_args(self) -> Vec<&'static str> {
        let parts: &[&[&str]] = match self {
            Fixture::FragmentedMp4 => &[
                VIDEO_INPUTS,
                H264_AAC,
                &["-movflags", "+frag_keyframe+empty_moov", "-f", "mp4"],
            ],
            Fixture::MoovAtEndMp4 => &[VIDEO_INPUTS, H264_AAC, &["-f", "mp4"]],
            Fixture::QuickTime => &[VIDEO_INPUTS, H264_AAC, &["-f", "mov"]],
            Fixture::Matroska => &[VIDEO_INPUTS, H264_AAC, &["-f", "matroska"]],
            Fixture::LiveWebm => &[
                VIDEO_INPUTS,
                &["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k"],
                &["-c:a", "libopus", "-f", "webm", "-live", "1"],
            ],
            Fixture::Jpeg => &[PHOTO_INPUT, &["-f", "image2", "-c:v", "mjpeg"]],
            Fixture::Png => &[PHOTO_INPUT, &["-f", "image2", "-c:v", "png"]],
            Fixture::Webp => &[PHOTO_INPUT, &["-f", "webp", "-c:v", "libwebp"]],
        };
        parts.concat()
    }

    /// Generated once and kept in cargo's test scratch directory; the name
    /// carries a hash of the ffmpeg arguments so a changed recipe regenerates.
    pub fn path(self) -> PathBuf {
        static GENERATING: Mutex<()> = Mutex::new(());
        let args = self.ffmpeg_args();
        let mut hasher = DefaultHasher::new();
        args.hash(&mut hasher);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chotomoni-media-fixtures");
        let path = dir.join(format!("{:016x}-{}", hasher.finish(), self.name()));

        let _one_at_a_time = GENERATING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !path.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let partial = path.with_extension("partial");
            let status = Command::new("ffmpeg")
                .args(["-v", "error", "-y"])
                .args(&args)
                .arg(&partial)
                .status()
                .expect("ffmpeg runs");
            assert!(status.success(), "ffmpeg could not make {self:?}");
            std::fs::rename(&partial, &path).unwrap();
        }
        path
    }

    pub fn bytes(self) -> Vec<u8> {
        std::fs::read(self.path()).unwrap()
    }
}

/// Runs a tool with `bytes` on stdin, returning (success, stdout, stderr).
fn run_with_stdin(program: &str, args: &[&str], bytes: &[u8]) -> (bool, Vec<u8>, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    // the tool may stop reading early; that is not what is being tested
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), output.stdout, stderr)
}

/// ffprobe's JSON for the given entries, e.g. "stream=width,height".
pub fn ffprobe_entries(bytes: &[u8], entries: &str) -> serde_json::Value {
    let args = [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_entries",
        entries,
        "-i",
        "pipe:0",
    ];
    let (ok, stdout, stderr) = run_with_stdin("ffprobe", &args, bytes);
    assert!(ok, "ffprobe failed: {stderr}");
    serde_json::from_slice(&stdout).unwrap()
}

/// Width and height of the first stream, as ffprobe sees them.
pub fn dimensions(bytes: &[u8]) -> (u64, u64) {
    let report = ffprobe_entries(bytes, "stream=width,height");
    let stream = &report["streams"][0];
    (
        stream["width"].as_u64().unwrap(),
        stream["height"].as_u64().unwrap(),
    )
}

/// Whether ffmpeg decodes every frame without complaint.
pub fn decodes_cleanly(bytes: &[u8]) -> bool {
    let args = ["-v", "error", "-i", "pipe:0", "-f", "null", "-"];
    let (ok, _, stderr) = run_with_stdin("ffmpeg", &args, bytes);
    ok && stderr.is_empty()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// 23°48'12.34" N and 90°24'56.78" E as the GPS IFD stores them: three
/// big-endian RATIONALs each.
pub const LATITUDE: [u32; 6] = [23, 1, 48, 1, 1234, 100];
pub const LONGITUDE: [u32; 6] = [90, 1, 24, 1, 5678, 100];
pub const MAKE: &[u8] = b"AcmeCam\0";
pub const MODEL: &[u8] = b"Proof X9\0";

pub fn rationals(values: [u32; 6]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_be_bytes())
        .collect()
}

/// The orientation-only EXIF expected after stripping, spelled out by hand:
/// little-endian header, IFD0 at 8 with one entry (0x0112, SHORT, 1, value),
/// no next IFD.
pub fn orientation_only_exif(orientation: u8) -> Vec<u8> {
    let mut tiff = b"II\x2a\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
    tiff.extend_from_slice(&[orientation, 0, 0, 0, 0, 0, 0, 0]);
    tiff
}

/// EXIF as a phone camera writes it (big-endian): Make, Model, Orientation
/// and a GPS IFD with latitude and longitude.
pub fn camera_exif(orientation: u16) -> Vec<u8> {
    fn entry(tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        tiff.extend_from_slice(&tag.to_be_bytes());
        tiff.extend_from_slice(&kind.to_be_bytes());
        tiff.extend_from_slice(&count.to_be_bytes());
        tiff.extend_from_slice(&value);
    }
    const ASCII: u16 = 2;
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // IFD0 at 8 (4 entries) ends at 62; Make and Model follow, then the GPS
    // IFD at 80 (4 entries, ends at 134), then the two rationals.
    let (make_at, model_at, gps_at, latitude_at, longitude_at) =
        (62u32, 70u32, 80u32, 134u32, 158u32);

    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&4u16.to_be_bytes());
    entry(
        &mut tiff,
        0x010f,
        ASCII,
        MAKE.len() as u32,
        make_at.to_be_bytes(),
    );
    entry(
        &mut tiff,
        0x0110,
        ASCII,
        MODEL.len() as u32,
        model_at.to_be_bytes(),
    );
    let [high, low] = orientation.to_be_bytes();
    entry(&mut tiff, 0x0112, SHORT, 1, [high, low, 0, 0]);
    entry(&mut tiff, 0x8825, LONG, 1, gps_at.to_be_bytes());
    tiff.extend_from_slice(&[0; 4]);
    tiff.extend_from_slice(MAKE);
    tiff.extend_from_slice(MODEL);
    tiff.push(0); // word alignment
    assert_eq!(tiff.len(), gps_at as usize);

    tiff.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut tiff, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, RATIONAL, 3, latitude_at.to_be_bytes());
    entry(&mut tiff, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut tiff, 0x0004, RATIONAL, 3, longitude_at.to_be_bytes());
    tiff.extend_from_slice(&[0; 4]);
    assert_eq!(tiff.len(), latitude_at as usize);
    tiff.extend(rationals(LATITUDE));
    assert_eq!(tiff.len(), longitude_at as usize);
    tiff.extend(rationals(LONGITUDE));
    tiff
}

/// XMP as phones embed it, with the location spelled out.
pub const XMP_WITH_LOCATION: &[u8] = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description exif:GPSLatitude="23,48.2057N" exif:GPSLongitude="90,24.9463E"/></rdf:RDF></x:xmpmeta>"#;

/// Asserts none of the location or device identity survived.
pub fn assert_no_location(bytes: &[u8]) {
    assert!(!contains(bytes, &rationals(LATITUDE)), "latitude survived");
    assert!(
        !contains(bytes, &rationals(LONGITUDE)),
        "longitude survived"
    );
    assert!(!contains(bytes, MAKE), "camera make survived");
    assert!(!contains(bytes, MODEL), "camera model survived");
    assert!(!contains(bytes, b"GPSLatitude"), "XMP location survived");
    assert!(!contains(bytes, b"Dhaka"), "text location survived");
}
