//! Excerpts for a marketplace or courier: a stretch of a proof video cut
//! to their limits, re-encoded as H.264 with AAC sound (what every phone
//! plays), with the order number and the running capture time drawn on
//! every frame so the excerpt can be matched to its order and its place in
//! the original.
use std::sync::Arc;

use tokio::process::ChildStdout;

use super::loopback::{Loopback, RangeSource};
use super::{run, words, FfmpegTools, ProbeError};

/// What to cut and what to draw on it.
#[derive(Debug, Clone)]
pub struct ExcerptSpec {
    pub start_ms: u64,
    pub length_ms: u64,
    /// Largest excerpt in bytes; ffmpeg stops writing there.
    pub max_bytes: u64,
    /// Drawn first, e.g. the order number. Letters, digits, `-`, `#` and
    /// spaces only; anything else is left out (it would need escaping in
    /// ffmpeg's filter syntax, and an order number needs none of it).
    pub caption: String,
    /// Unix seconds of the video's first frame in the time zone shown,
    /// so the clock runs with the video; `None` draws no clock.
    pub clock_origin: Option<i64>,
    /// What the clock is labelled with, e.g. `+06`.
    pub clock_zone: String,
}

impl FfmpegTools {
    /// Cuts the excerpt from `source`, read by ffmpeg through a loopback
    /// server so it seeks instead of decoding everything before the start.
    /// Returns an MP4 with its index first (what upload forms and every
    /// player read best). ffmpeg writes it into an anonymous in-memory file
    /// (Linux `memfd`), which it can seek in to move the index, so the
    /// excerpt never reaches the disk in clear.
    pub async fn excerpt(
        &self,
        source: Arc<dyn RangeSource>,
        spec: &ExcerptSpec,
    ) -> Result<Vec<u8>, ProbeError> {
        let output = memfd::create().map_err(ProbeError::Input)?;
        let server = Loopback::serve(source).await.map_err(ProbeError::Input)?;
        let mut args = words("-v error -nostats -nostdin -ss");
        args.push(seconds(spec.start_ms));
        args.push("-t".into());
        args.push(seconds(spec.length_ms));
        args.extend(["-i".into(), server.url.clone()]);
        args.extend(words("-map 0:v:0 -map 0:a:0? -vf"));
        args.push(filters(spec));
        // About 2.5 Mbit/s of picture and 128 kbit/s of sound keep a full
        // minute near 20 MB, inside a marketplace's 30 MB; `-fs` stops
        // ffmpeg, a little past where it is told, before the limit.
        args.extend(words(
            "-c:v libx264 -preset veryfast -b:v 2500k -maxrate 3000k -bufsize 6000k -pix_fmt yuv420p \
             -c:a aac -b:a 128k -ac 2 -movflags +faststart -f mp4 -y -fs",
        ));
        args.push(size_cap(spec.max_bytes).to_string());
        args.push(memfd::CHILD_PATH.into());
        let fd = output.as_raw();
        let timeout = self.timeout.max(std::time::Duration::from_secs(300));
        run::run_with(
            &self.ffmpeg,
            &args,
            |command| memfd::hand_to_child(command, fd),
            tokio::io::empty(),
            timeout,
            drain,
        )
        .await?;
        drop(server);
        let video = output.read_all().map_err(ProbeError::Input)?;
        if video.is_empty() || video.len() as u64 > spec.max_bytes {
            return Err(ProbeError::Output {
                program: self.ffmpeg.display().to_string(),
                reason: format!(
                    "the excerpt is {} bytes, outside 1 to {}",
                    video.len(),
                    spec.max_bytes
                ),
            });
        }
        Ok(video)
    }
}

/// Where ffmpeg is told to stop: a quarter below the limit, at most 2 MB.
fn size_cap(max_bytes: u64) -> u64 {
    max_bytes - (max_bytes / 4).min(2_000_000)
}

async fn drain(mut stdout: ChildStdout) -> Result<(), ProbeError> {
    tokio::io::copy(&mut stdout, &mut tokio::io::sink())
        .await
        .map(|_| ())
        .map_err(|source| ProbeError::Pipe {
            program: "ffmpeg".into(),
            source,
        })
}

/// An anonymous file in memory that a child process writes as its fd 3.
mod memfd {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::fd::{AsRawFd, OwnedFd, RawFd};

    /// What the child opens to reach it.
    pub const CHILD_PATH: &str = "/dev/fd/3";

    pub struct MemFile(std::fs::File);

    /// Closed on exec, so no other child inherits it; [`hand_to_child`]
    /// gives it to one child as fd 3.
    pub fn create() -> std::io::Result<MemFile> {
        let fd: OwnedFd =
            rustix::fs::memfd_create("chotomoni-excerpt", rustix::fs::MemfdFlags::CLOEXEC)?;
        Ok(MemFile(std::fs::File::from(fd)))
    }

    impl MemFile {
        pub fn as_raw(&self) -> RawFd {
            self.0.as_raw_fd()
        }

        pub fn read_all(mut self) -> std::io::Result<Vec<u8>> {
            self.0.seek(SeekFrom::Start(0))?;
            let mut out = Vec::new();
            self.0.read_to_end(&mut out)?;
            Ok(out)
        }
    }

    pub fn hand_to_child(command: &mut tokio::process::Command, fd: RawFd) {
        // SAFETY: between fork and exec only `dup2` or `fcntl`, which are
        // async-signal-safe, run; it copies the file to fd 3 without the
        // close-on-exec flag, so the child, and only it, keeps it.
        unsafe {
            command.pre_exec(move || {
                // `dup2` onto itself keeps the flag, so fd 3 is cleared by hand.
                let done = if fd == 3 {
                    libc::fcntl(3, libc::F_SETFD, 0)
                } else {
                    libc::dup2(fd, 3)
                };
                if done == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Scales down to at most 1280 pixels wide, then draws the caption and
/// the clock in a dark box at the bottom left.
fn filters(spec: &ExcerptSpec) -> String {
    let caption: String = spec
        .caption
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '#' | ' '))
        .collect();
    // Inside drawtext's text, `:` separates a function's arguments and must
    // be escaped once for the expansion and once more for the filter.
    let clock = spec.clock_origin.map_or(String::new(), |origin| {
        format!(
            "   %{{pts\\:gmtime\\:{origin}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}} {}",
            spec.clock_zone
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-'))
                .collect::<String>()
        )
    });
    format!(
        "scale='min(1280,iw)':-2,drawtext=text='{caption}{clock}':x=16:y=h-th-16:\
         fontsize=h/22:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8"
    )
}
