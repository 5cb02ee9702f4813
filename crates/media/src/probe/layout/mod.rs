//! The real length of a fragmented MP4 or WebM recording, read from its
//! container layout as the bytes stream by.
//!
//! Browsers' MediaRecorder writes these files live: the header is written
//! before the length is known, so it says nothing (WebM) or only what the
//! first fragment holds (Chromium's fragmented MP4). ffprobe, reading from
//! a pipe, cannot seek to the last fragment the way it does on a file, and
//! reports that header. The fragments themselves carry their timestamps,
//! so [`Scanner`] walks the boxes (MP4) or elements (WebM) and skips the
//! media data, keeping a few numbers per track: memory stays the same
//! whatever the size, and the input is read once, alongside ffprobe.
mod mp4;
mod webm;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Long enough for any box or element header (a 64-bit MP4 box size).
const MAX_HEADER_BYTES: usize = 16;
/// A leaf box read whole larger than this (a `trun` of a million
/// samples) is not a browser's recording; the scan gives up.
const MAX_LEAF_BYTES: u64 = 16 * 1024 * 1024;

/// What a container format tells the walker about one box or element.
enum Header {
    /// The header is not complete yet.
    NeedMore,
    /// Not a layout this scanner can follow: stop and answer nothing.
    Invalid,
    Element {
        id: u32,
        header_len: usize,
        body: Body,
    },
}

enum Body {
    /// A container: its children follow as the next headers.
    Descend,
    /// Of no interest: skip this many bytes (`u64::MAX`: to the end).
    Skip(u64),
    /// Hand the first `keep` bytes to the format, skip the rest of `len`.
    Read { keep: u64, len: u64 },
}

impl Body {
    /// Reads a leaf whole, or gives up on one too large to be a browser's.
    fn read_whole(len: u64) -> Option<Body> {
        (len <= MAX_LEAF_BYTES).then_some(Body::Read { keep: len, len })
    }
}

/// A container format's reading of headers and of the leaves it keeps.
trait Format {
    fn header(&mut self, bytes: &[u8]) -> Header;
    fn element(&mut self, id: u32, body: &[u8]);
    fn duration_ms(&self) -> Option<u64>;
}

enum State {
    Header,
    Skip(u64),
    Read {
        id: u32,
        keep: usize,
        skip_after: u64,
    },
    Stopped,
}

/// Feeds a format's headers and kept leaves from a byte stream that comes
/// in pieces of any size. Containers are not tracked by their ends: every
/// element the formats descend into holds only elements, so their children
/// and their siblings read alike as the next headers.
struct Walker<F> {
    format: F,
    pending: Vec<u8>,
    state: State,
}

impl<F: Format> Walker<F> {
    /// What the format found, unless the layout stopped making sense
    /// before the end, when part of it would be taken for the whole.
    fn duration_ms(&self) -> Option<u64> {
        match self.state {
            State::Stopped => None,
            _ => self.format.duration_ms(),
        }
    }

    fn new(format: F) -> Self {
        Walker {
            format,
            pending: Vec::new(),
            state: State::Header,
        }
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.state {
                State::Stopped => return,
                State::Skip(remaining) => {
                    let skipped = remaining.min(bytes.len() as u64);
                    bytes = &bytes[skipped as usize..];
                    self.state = match remaining - skipped {
                        0 => State::Header,
                        left => State::Skip(left),
                    };
                }
                State::Read {
                    id,
                    keep,
                    skip_after,
                } => {
                    let taken = (keep - self.pending.len()).min(bytes.len());
                    self.pending.extend_from_slice(&bytes[..taken]);
                    bytes = &bytes[taken..];
                    if self.pending.len() == keep {
                        self.format.element(id, &self.pending);
                        self.pending.clear();
                        self.state = match skip_after {
                            0 => State::Header,
                            left => State::Skip(left),
                        };
                    }
                }
                State::Header => bytes = self.header(bytes),
            }
        }
    }

    /// Reads a header from what is pending plus `bytes`; returns the bytes
    /// after it.
    fn header<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let before = self.pending.len();
        let taken = (MAX_HEADER_BYTES - before).min(bytes.len());
        self.pending.extend_from_slice(&bytes[..taken]);
        match self.format.header(&self.pending) {
            Header::NeedMore if self.pending.len() < MAX_HEADER_BYTES => &[],
            Header::NeedMore | Header::Invalid => {
                self.state = State::Stopped;
                &[]
            }
            Header::Element {
                id,
                header_len,
                body,
            } => {
                self.pending.clear();
                self.state = match body {
                    Body::Descend => State::Header,
                    Body::Skip(0) => State::Header,
                    Body::Skip(len) => State::Skip(len),
                    Body::Read { keep, len } => State::Read {
                        id,
                        keep: keep as usize,
                        skip_after: len - keep,
                    },
                };
                if let State::Read { keep: 0, .. } = self.state {
                    self.format.element(id, &[]);
                    self.state = State::Header;
                }
                &bytes[header_len - before..]
            }
        }
    }
}

/// Recognises the container from the first bytes, then walks it.
#[derive(Default)]
pub(super) struct Scanner(Container);

enum Container {
    Detecting(Vec<u8>),
    Mp4(Walker<mp4::Mp4>),
    Webm(Walker<webm::Webm>),
    /// A photo, a plain MP4 or anything else ffprobe alone answers for.
    Other,
}

/// Enough to tell an MP4's `ftyp` from WebM's EBML magic.
const DETECT_BYTES: usize = 8;

impl Default for Container {
    fn default() -> Self {
        Container::Detecting(Vec::with_capacity(DETECT_BYTES))
    }
}

impl Scanner {
    pub(super) fn push(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            Container::Mp4(walker) => walker.push(bytes),
            Container::Webm(walker) => walker.push(bytes),
            Container::Other => {}
            Container::Detecting(start) => {
                start.extend_from_slice(bytes);
                if start.len() < DETECT_BYTES {
                    return;
                }
                let start = std::mem::take(start);
                self.0 = if start.starts_with(&webm::EBML_MAGIC) {
                    Container::Webm(Walker::new(webm::Webm::default()))
                } else if matches!(&start[4..8], b"ftyp" | b"styp") {
                    Container::Mp4(Walker::new(mp4::Mp4::default()))
                } else {
                    Container::Other
                };
                self.push(&start);
            }
        }
    }

    /// The duration the layout shows, when it is a live-written recording
    /// whose fragments or blocks were seen.
    pub(super) fn duration_ms(&self) -> Option<u64> {
        match &self.0 {
            Container::Mp4(walker) => walker.duration_ms(),
            Container::Webm(walker) => walker.duration_ms(),
            Container::Detecting(_) | Container::Other => None,
        }
    }
}

/// Passes a reader's bytes through a [`Scanner`] as they are read.
pub(super) struct ScanningReader<R> {
    inner: R,
    pub(super) scanner: Scanner,
}

impl<R> ScanningReader<R> {
    pub(super) fn new(inner: R) -> Self {
        ScanningReader {
            inner,
            scanner: Scanner::default(),
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ScanningReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.scanner.push(&buf.filled()[before..]);
        }
        polled
    }
}

/// Big-endian numbers read off the front of a leaf's bytes.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_be_bytes)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.0 = self.0.get(n..)?;
        Some(())
    }
}

#[cfg(test)]
mod tests;
