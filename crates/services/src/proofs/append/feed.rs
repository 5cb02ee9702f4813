//! Turning a request body into whole blocks without holding a thread: the
//! body is awaited on the runtime, and the request only asks for a thread
//! (see [`super::threads`]) once a block is full. A body that falls silent
//! for the idle timeout is ended as if the client had disconnected.
use super::BLOCK;
use bytes::{Buf, Bytes};
use futures::{Stream, StreamExt};
use std::time::Duration;
use tokio::time::Instant;

/// What waiting for the next block gave.
pub(super) enum Next {
    /// A block of exactly [`BLOCK`] bytes.
    Full(Vec<u8>),
    /// No full block within the wait; what arrived stays for the next call.
    Quiet,
    /// The body is over: what is left, and whether it ended early (an error,
    /// a disconnect or the idle timeout) rather than at its end.
    Ended { rest: Vec<u8>, interrupted: bool },
}

pub(super) struct Feed<S> {
    body: S,
    idle: Duration,
    last_frame: Instant,
    /// Bytes of a frame that did not fit into the block being filled.
    pending: Bytes,
    block: Vec<u8>,
    upload: String,
}

impl<S, E> Feed<S>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
    E: std::fmt::Display,
{
    pub(super) fn new(body: S, idle: Duration, upload: &str) -> Self {
        Feed {
            body,
            idle,
            last_frame: Instant::now(),
            pending: Bytes::new(),
            block: Vec::with_capacity(BLOCK),
            upload: upload.to_owned(),
        }
    }

    /// The next full block, waiting at most `wait` for it (`None`: as long
    /// as the body keeps sending; never past the body's idle timeout).
    /// `spare` is an emptied block to fill next.
    pub(super) async fn next(&mut self, wait: Option<Duration>, spare: Option<Vec<u8>>) -> Next {
        let give_up = wait.map(|w| Instant::now() + w);
        loop {
            let take = (BLOCK - self.block.len()).min(self.pending.len());
            self.block.extend_from_slice(&self.pending[..take]);
            self.pending.advance(take);
            if self.block.len() == BLOCK {
                let next = spare.unwrap_or_else(|| Vec::with_capacity(BLOCK));
                return Next::Full(std::mem::replace(&mut self.block, next));
            }
            let silent_until = self.last_frame + self.idle;
            let until = give_up.map_or(silent_until, |g| g.min(silent_until));
            match tokio::time::timeout_at(until, self.body.next()).await {
                Ok(Some(Ok(bytes))) => {
                    self.last_frame = Instant::now();
                    self.pending = bytes;
                }
                Ok(Some(Err(e))) => {
                    tracing::info!(upload = %self.upload, error = %e, "upload body ended early; keeping what arrived");
                    return self.end(true);
                }
                Ok(None) => return self.end(false),
                Err(_) if Instant::now() >= silent_until => {
                    tracing::info!(upload = %self.upload, idle_secs = self.idle.as_secs(), "upload body sent nothing for too long; keeping what arrived");
                    return self.end(true);
                }
                Err(_) => return Next::Quiet,
            }
        }
    }

    fn end(&mut self, interrupted: bool) -> Next {
        Next::Ended {
            rest: std::mem::take(&mut self.block),
            interrupted,
        }
    }
}
