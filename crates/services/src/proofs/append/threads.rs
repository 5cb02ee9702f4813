//! The threads behind one piece of an upload: the sealing thread, the
//! hashing and writing thread, and the flusher, with the blocks they hand
//! each other (see the parent module for why there are three).
/// What one request delivered.
pub(super) struct Piece {
    pub(super) received: u64,
    pub(super) hasher: Sha256,
    /// The SHA-256 of this piece alone, when the client sent one to compare.
    pub(super) checksum: Option<Sha256>,
    /// The file's first bytes (up to [`SNIFF_LEN`]), for sniffing.
    pub(super) head: Vec<u8>,
    pub(super) tail: Zeroizing<Vec<u8>>,
    pub(super) interrupted: bool,
}

use super::SYNC_EVERY;
use chotomoni_crypto::proof_stream::{ChunkWriter, PayloadKey};
use chotomoni_media::SNIFF_LEN;
use sha2::{Digest, Sha256};
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use zeroize::Zeroizing;

impl Piece {
    /// Takes in what the next segment of the same body delivered.
    pub(super) fn merge(&mut self, next: Piece) {
        self.received += next.received;
        self.hasher = next.hasher;
        self.checksum = next.checksum;
        // Only the first segment can start before the sniffed bytes end.
        if self.head.is_empty() {
            self.head = next.head;
        }
        self.tail = next.tail;
    }
}

pub(super) struct Job {
    pub(super) path: PathBuf,
    pub(super) sealed_len: u64,
    pub(super) payload: PayloadKey,
    pub(super) length: u64,
    pub(super) offset: u64,
    pub(super) tail: Vec<u8>,
    pub(super) hasher: Sha256,
    pub(super) checksum: Option<Sha256>,
    /// Where blocks go back to the request once hashed.
    pub(super) emptied: mpsc::Sender<Vec<u8>>,
    /// One for the block being sealed, one for the block being written.
    pub(super) sealed_buffers: [Vec<u8>; 2],
}

pub(super) enum JobError {
    TooLong,
    Io(std::io::Error),
}

impl From<std::io::Error> for JobError {
    fn from(e: std::io::Error) -> Self {
        JobError::Io(e)
    }
}

/// What the sealing thread made of the blocks.
struct Sealed {
    received: u64,
    head: Vec<u8>,
    tail: Zeroizing<Vec<u8>>,
}

impl Job {
    /// Sealing costs about as much as hashing and writing (into the page
    /// cache) together, and one thread doing all three was slower than the
    /// disk. So this thread seals each block, and a scoped thread hashes it
    /// and writes its sealed bytes; handing over waits until that thread is
    /// free, which keeps the order and bounds memory. A third thread flushes
    /// what was written every [`SYNC_EVERY`] bytes, so the disk works while
    /// the rest arrives instead of after.
    pub(super) fn run(
        self,
        blocks: tokio::sync::mpsc::Receiver<Vec<u8>>,
    ) -> std::result::Result<Piece, JobError> {
        let Job {
            path,
            sealed_len,
            payload,
            length,
            offset,
            tail,
            hasher,
            checksum,
            emptied,
            sealed_buffers: [first, second],
        } = self;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        // Bytes past what the database acknowledged are from a piece that
        // never completed (a crash, a rejected checksum): drop them.
        file.set_len(sealed_len)?;
        file.seek(SeekFrom::End(0))?;
        let (to_writer, sealed_blocks) = mpsc::sync_channel::<SealedBlock>(0);
        let (spare_tx, spare) = mpsc::channel::<Vec<u8>>();
        spare_tx.send(second).expect("the receiver is here");
        // At most one flush asked for while one runs.
        let (to_syncer, flushes) = mpsc::sync_channel::<()>(1);
        let (sealed, hashed, synced) = std::thread::scope(|scope| {
            let syncing = {
                let file = &file;
                scope.spawn(move || flushes.iter().try_for_each(|()| file.sync_data()))
            };
            let hashing = scope.spawn(|| {
                HashAndWrite {
                    file: &file,
                    hasher,
                    checksum,
                    to_syncer,
                    unsynced: 0,
                }
                .run(sealed_blocks, emptied, spare_tx)
            });
            let out = Sealing {
                blocks,
                to_writer,
                spare,
            };
            let sealed = out.run(first, &payload, length, offset, tail);
            // Sealing dropped its sender, so the other threads are ending.
            let hashed = hashing.join().expect("hashing and writing do not panic");
            let synced = syncing.join().expect("syncing does not panic");
            (sealed, hashed, synced)
        });
        // A failed write stops the sealing too; report the write's error.
        // A failed flush must be reported too: Linux reports a write-back
        // error to each open file once, so the fsync below would not.
        synced?;
        let (hasher, checksum) = hashed?;
        let sealed = sealed?;
        file.sync_data()?;
        Ok(Piece {
            received: sealed.received,
            hasher,
            checksum,
            head: sealed.head,
            tail: sealed.tail,
            interrupted: false,
        })
    }
}

/// A block of plaintext and the sealed bytes made of it (give or take the
/// chunk in progress).
struct SealedBlock {
    plain: Vec<u8>,
    sealed: Vec<u8>,
}

/// The sealing thread. Sealed bytes go into a buffer that is handed on
/// with each block; the buffer written before comes back through `spare`.
struct Sealing {
    blocks: tokio::sync::mpsc::Receiver<Vec<u8>>,
    to_writer: mpsc::SyncSender<SealedBlock>,
    spare: mpsc::Receiver<Vec<u8>>,
}

impl Sealing {
    fn run(
        mut self,
        out: Vec<u8>,
        payload: &PayloadKey,
        length: u64,
        offset: u64,
        tail: Vec<u8>,
    ) -> std::result::Result<Sealed, JobError> {
        let mut head = if offset < SNIFF_LEN as u64 {
            tail.clone()
        } else {
            vec![]
        };
        let mut writer = ChunkWriter::resume(payload, out, length, offset, tail);
        let mut received = 0u64;
        while let Some(plain) = self.blocks.blocking_recv() {
            if offset + received + plain.len() as u64 > length {
                return Err(JobError::TooLong);
            }
            if head.len() < SNIFF_LEN {
                let take = (SNIFF_LEN - head.len()).min(plain.len());
                head.extend_from_slice(&plain[..take]);
            }
            received += plain.len() as u64;
            writer.write(&plain)?;
            let next = self.spare.recv().map_err(|_| stopped())?;
            let sealed = std::mem::replace(writer.get_mut(), next);
            self.hand_on(plain, sealed)?;
        }
        let (sealed, tail) = if offset + received == length {
            (writer.finish()?, Zeroizing::new(vec![]))
        } else {
            writer.pause()
        };
        if !sealed.is_empty() {
            self.hand_on(vec![], sealed)?;
        }
        Ok(Sealed {
            received,
            head,
            tail,
        })
    }

    fn hand_on(&self, plain: Vec<u8>, sealed: Vec<u8>) -> std::io::Result<()> {
        self.to_writer
            .send(SealedBlock { plain, sealed })
            .map_err(|_| stopped())
    }
}

/// The hashing and writing thread stops early only on an error, which it
/// reports.
fn stopped() -> std::io::Error {
    std::io::Error::other("the upload's writing thread stopped")
}

/// The hashing and writing thread.
struct HashAndWrite<'f> {
    file: &'f std::fs::File,
    hasher: Sha256,
    checksum: Option<Sha256>,
    /// Asks the syncing thread to flush what was written so far.
    to_syncer: mpsc::SyncSender<()>,
    unsynced: usize,
}

impl HashAndWrite<'_> {
    fn run(
        mut self,
        blocks: mpsc::Receiver<SealedBlock>,
        emptied: mpsc::Sender<Vec<u8>>,
        spare: mpsc::Sender<Vec<u8>>,
    ) -> std::io::Result<(Sha256, Option<Sha256>)> {
        for SealedBlock {
            mut plain,
            mut sealed,
        } in blocks
        {
            self.hasher.update(&plain);
            if let Some(checksum) = &mut self.checksum {
                checksum.update(&plain);
            }
            self.file.write_all(&sealed)?;
            self.unsynced += sealed.len();
            if self.unsynced >= SYNC_EVERY {
                // Full: a flush is already waiting, and will cover this too.
                let _ = self.to_syncer.try_send(());
                self.unsynced = 0;
            }
            // The receivers are gone once the body or the sealing ended;
            // the buffers are then freed.
            plain.clear();
            let _ = emptied.send(plain);
            sealed.clear();
            let _ = spare.send(sealed);
        }
        Ok((self.hasher, self.checksum))
    }
}
