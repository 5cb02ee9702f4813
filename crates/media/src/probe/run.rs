//! Running ffprobe or ffmpeg with the media on stdin and results on stdout.
//!
//! Proof media is stored encrypted and must never reach the disk as
//! plaintext, so the tools read `pipe:0` instead of a temporary file.

use std::future::Future;
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStderr, ChildStdin, ChildStdout, Command};

use super::ProbeError;

/// Enough of stderr to explain a failure; the rest is discarded.
const STDERR_KEPT_BYTES: u64 = 4 * 1024;
const FEED_CHUNK_BYTES: usize = 64 * 1024;

/// Runs `program` with `input` fed to its stdin and `read_output` consuming
/// its stdout, all concurrently, and kills it after `timeout`.
///
/// `read_output` must read stdout to its end even when it gives up on the
/// content, so that the program never blocks on a full pipe and its exit
/// status, which explains most failures, is reported first.
pub(super) async fn run<R, T, Reading>(
    program: &Path,
    args: &[String],
    input: R,
    timeout: Duration,
    read_output: impl FnOnce(ChildStdout) -> Reading,
) -> Result<T, ProbeError>
where
    R: AsyncRead + Unpin,
    Reading: Future<Output = Result<T, ProbeError>>,
{
    run_with(program, args, |_| {}, input, timeout, read_output).await
}

/// [`run`] with the command adjusted first (an extra descriptor for the
/// child, say).
pub(super) async fn run_with<R, T, Reading>(
    program: &Path,
    args: &[String],
    prepare: impl FnOnce(&mut Command),
    input: R,
    timeout: Duration,
    read_output: impl FnOnce(ChildStdout) -> Reading,
) -> Result<T, ProbeError>
where
    R: AsyncRead + Unpin,
    Reading: Future<Output = Result<T, ProbeError>>,
{
    let name = program.display().to_string();
    let mut command = Command::new(program);
    prepare(&mut command);
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A timed-out run is dropped; the program must not outlive it.
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => ProbeError::NotInstalled {
                program: name.clone(),
            },
            _ => ProbeError::Start {
                program: name.clone(),
                source,
            },
        })?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    let finished = async {
        let (fed, output, stderr) =
            tokio::join!(feed(input, stdin), read_output(stdout), read_stderr(stderr));
        let status = child.wait().await;
        (fed, output, stderr, status)
    };
    let (fed, output, stderr, status) =
        tokio::time::timeout(timeout, finished)
            .await
            .map_err(|_| ProbeError::TimedOut {
                program: name.clone(),
                timeout,
            })?;

    // A failing source truncates the input, which the tool then rejects, so
    // the source's error comes first.
    let fed = match fed {
        Err(FeedError::Input(source)) => return Err(ProbeError::Input(source)),
        Err(FeedError::Pipe(source)) => Err(source),
        Ok(()) => Ok(()),
    };
    let status = status.map_err(|source| ProbeError::Pipe {
        program: name.clone(),
        source,
    })?;
    if !status.success() {
        return Err(ProbeError::Rejected {
            program: name,
            status,
            stderr,
        });
    }
    fed.map_err(|source| ProbeError::Pipe {
        program: name,
        source,
    })?;
    output
}

enum FeedError {
    Input(io::Error),
    Pipe(io::Error),
}

/// Copies `input` into the tool's stdin and closes it at the end, which
/// the tool reads as end of file.
async fn feed<R: AsyncRead + Unpin>(mut input: R, mut stdin: ChildStdin) -> Result<(), FeedError> {
    let mut chunk = vec![0; FEED_CHUNK_BYTES];
    loop {
        let read = input.read(&mut chunk).await.map_err(FeedError::Input)?;
        if read == 0 {
            return Ok(());
        }
        match stdin.write_all(&chunk[..read]).await {
            Ok(()) => {}
            // Tools stop reading once they have what they need (a poster
            // needs one frame) or once they gave up; their exit status says which.
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(error) => return Err(FeedError::Pipe(error)),
        }
    }
}

async fn read_stderr(mut stderr: ChildStderr) -> String {
    let mut kept = Vec::new();
    // Failing to read stderr only loses the explanation of a failure, which
    // the exit status still reports.
    let _ = (&mut stderr)
        .take(STDERR_KEPT_BYTES)
        .read_to_end(&mut kept)
        .await;
    let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
    String::from_utf8_lossy(&kept).trim().to_owned()
}
