//! Reading duration, size and codecs of proof media, and drawing a poster
//! (thumbnail) from it, with Debian's ffprobe and ffmpeg.
//!
//! Each call reads its input once, as a stream: pass a fresh reader per call
//! (e.g. a new decrypting reader over the stored object). Inputs are never
//! buffered whole.
//!
//! ffmpeg reads non-seekable input front to back, so an MP4 whose index
//! (`moov`) comes after the media data (what many camera apps write, unlike
//! browsers' fragmented MP4) still probes, as ffprobe skips forward to the
//! index, but gives no poster: the frames have gone by when the index that
//! locates them arrives.

mod excerpt;
mod ffprobe_json;
mod layout;
pub mod loopback;
mod run;

pub use excerpt::ExcerptSpec;

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::ChildStdout;
use tokio_util::io::SyncIoBridge;

use ffprobe_json::FfprobeReport;
use layout::ScanningReader;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// A poster is a single small JPEG; anything bigger means something is off.
pub const POSTER_MAX_BYTES: usize = 10 * 1024 * 1024;

/// What [`probe`] found out about a photo or video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// `None` for photos.
    pub duration_ms: Option<u64>,
    /// Of the first video stream (or the photo), as coded: a phone video
    /// shot upright may report landscape size plus a rotation, which is not
    /// read here.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// ffmpeg's codec names, e.g. "h264", "vp8", "mjpeg" for a JPEG photo.
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub has_audio: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{program} was not found on PATH; install Debian's ffmpeg package")]
    NotInstalled { program: String },
    #[error("could not start {program}: {source}")]
    Start { program: String, source: io::Error },
    #[error("{program} did not finish within {timeout:?} and was stopped")]
    TimedOut { program: String, timeout: Duration },
    #[error("reading the media failed: {0}")]
    Input(#[source] io::Error),
    #[error("{program} could not read the media ({status}): {stderr}")]
    Rejected {
        program: String,
        status: ExitStatus,
        stderr: String,
    },
    #[error("exchanging data with {program} failed: {source}")]
    Pipe { program: String, source: io::Error },
    #[error("{program} produced unusable output: {reason}")]
    Output { program: String, reason: String },
    #[error("the poster would be larger than {limit} bytes")]
    PosterTooLarge { limit: usize },
    #[error("a poster must be at least 1 pixel wide")]
    ZeroWidth,
}

/// Where to find ffprobe and ffmpeg, and how long one run may take.
#[derive(Debug, Clone)]
pub struct FfmpegTools {
    /// Looked up on PATH unless it contains a slash.
    pub ffprobe: PathBuf,
    pub ffmpeg: PathBuf,
    /// Includes the time spent reading the input, so a stalled source
    /// ends the run too.
    pub timeout: Duration,
}

impl Default for FfmpegTools {
    fn default() -> Self {
        FfmpegTools {
            ffprobe: PathBuf::from("ffprobe"),
            ffmpeg: PathBuf::from("ffmpeg"),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// [`FfmpegTools::probe`] with the default tools and timeout.
pub async fn probe<R>(input: R) -> Result<MediaInfo, ProbeError>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    FfmpegTools::default().probe(input).await
}

/// [`FfmpegTools::poster`] with the default tools and timeout.
pub async fn poster<R>(input: R, max_width: u32) -> Result<Vec<u8>, ProbeError>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    FfmpegTools::default().poster(input, max_width).await
}

impl FfmpegTools {
    /// Duration, size and codecs of a photo or video.
    ///
    /// One pass reads the whole input. A recording written live by a
    /// browser (fragmented MP4, WebM) gets its duration from its own
    /// fragments, read as the bytes go to ffprobe; anything else from the
    /// header when it has one, and otherwise from the end of the last
    /// packet.
    pub async fn probe<R>(&self, input: R) -> Result<MediaInfo, ProbeError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let mut args = words("-v error -print_format json -show_entries");
        args.push(ffprobe_json::SHOW_ENTRIES.to_owned());
        args.extend(words("-i pipe:0"));
        let program = self.ffprobe.display().to_string();
        let mut input = ScanningReader::new(input);
        let report = run::run(&self.ffprobe, &args, &mut input, self.timeout, |stdout| {
            read_report(program, stdout)
        })
        .await?;
        // ffprobe may stop reading before the end; the last fragment is
        // the one that tells the length.
        tokio::io::copy(&mut input, &mut tokio::io::sink())
            .await
            .map_err(ProbeError::Input)?;
        Ok(report.into_media_info(input.scanner.duration_ms()))
    }

    /// A JPEG of the first video frame, or of the photo itself, scaled down
    /// to at most `max_width` pixels wide (never up), keeping the aspect
    /// ratio. The JPEG carries no metadata from the input.
    pub async fn poster<R>(&self, input: R, max_width: u32) -> Result<Vec<u8>, ProbeError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        if max_width == 0 {
            return Err(ProbeError::ZeroWidth);
        }
        let mut args = words("-v error -nostats -i pipe:0 -map 0:v:0 -frames:v 1 -vf");
        args.push(format!("scale='min(iw,{max_width})':-1"));
        // ffmpeg's default MJPEG bitrate is meant for motion and blurs a
        // still; quality 3 looks good at a few tens of kilobytes.
        args.extend(words("-q:v 3 -f image2pipe -c:v mjpeg pipe:1"));
        let program = self.ffmpeg.display().to_string();
        run::run(&self.ffmpeg, &args, input, self.timeout, |stdout| {
            read_poster(program, stdout)
        })
        .await
    }
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

/// Parses ffprobe's report as it streams in, on a blocking thread because
/// serde_json reads synchronously.
async fn read_report(program: String, stdout: ChildStdout) -> Result<FfprobeReport, ProbeError> {
    let mut reader = io::BufReader::new(SyncIoBridge::new(stdout));
    let parsed = tokio::task::spawn_blocking(move || {
        let report = serde_json::from_reader(&mut reader);
        // Whatever follows a parse error is drained (see run::run); a read
        // error here surfaces as ffprobe's exit status.
        let _ = io::copy(&mut reader, &mut io::sink());
        report
    })
    .await;
    let output_error = |reason: String| ProbeError::Output {
        program: program.clone(),
        reason,
    };
    parsed
        .map_err(|join_error| output_error(join_error.to_string()))?
        .map_err(|json_error| output_error(json_error.to_string()))
}

async fn read_poster(program: String, mut stdout: ChildStdout) -> Result<Vec<u8>, ProbeError> {
    let mut jpeg = Vec::new();
    let pipe_error = |source| ProbeError::Pipe {
        program: program.clone(),
        source,
    };
    (&mut stdout)
        .take(POSTER_MAX_BYTES as u64 + 1)
        .read_to_end(&mut jpeg)
        .await
        .map_err(pipe_error)?;
    if jpeg.len() > POSTER_MAX_BYTES {
        tokio::io::copy(&mut stdout, &mut tokio::io::sink())
            .await
            .map_err(pipe_error)?;
        return Err(ProbeError::PosterTooLarge {
            limit: POSTER_MAX_BYTES,
        });
    }
    if jpeg.is_empty() {
        // ffmpeg exits successfully when the input has no decodable frame.
        return Err(ProbeError::Output {
            program,
            reason: "no video frame could be decoded".to_owned(),
        });
    }
    Ok(jpeg)
}
