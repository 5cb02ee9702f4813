//! WebM (Matroska): every Cluster's timecode plus the relative timecode of
//! each block in it, and a BlockGroup's BlockDuration, scaled by the
//! segment's TimecodeScale. MediaRecorder writes Segment and Clusters with
//! an unknown size, which the walker does not need: it descends into them
//! and reads on.
use super::{Body, Format, Header};

pub(super) const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TIMECODE_SCALE: u32 = 0x2A_D7B1;
const CLUSTER: u32 = 0x1F43_B675;
const TIMECODE: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const BLOCK_DURATION: u32 = 0x9B;

/// A block's track number (a variable-length integer of at most 8 bytes)
/// and its 16-bit relative timecode; the frame data after is skipped.
const BLOCK_HEAD_BYTES: u64 = 10;
/// The numbers read here are unsigned integers of at most 8 bytes.
const MAX_UINT_BYTES: u64 = 8;

#[derive(Debug)]
pub(super) struct Webm {
    /// Nanoseconds per timecode tick.
    timecode_scale: u64,
    cluster: Option<u64>,
    /// Earliest block start and latest block end, in ticks.
    span: Option<(i64, i64)>,
    /// The block of the BlockGroup being read, for its BlockDuration.
    group_block: Option<i64>,
}

impl Default for Webm {
    fn default() -> Self {
        Webm {
            timecode_scale: 1_000_000, // Matroska's default: milliseconds
            cluster: None,
            span: None,
            group_block: None,
        }
    }
}

impl Format for Webm {
    fn header(&mut self, bytes: &[u8]) -> Header {
        let Some((id, id_len)) = element_id(bytes) else {
            return Header::Invalid;
        };
        if bytes.len() < id_len {
            return Header::NeedMore;
        }
        let Some(size_bytes) = bytes.get(id_len..) else {
            return Header::NeedMore;
        };
        let Some((size, size_len)) = vint(size_bytes) else {
            return if bytes.len() > id_len && size_bytes[0] == 0 {
                Header::Invalid
            } else {
                Header::NeedMore
            };
        };
        let body = match (id, size) {
            (SEGMENT | INFO | CLUSTER | BLOCK_GROUP, _) => Body::Descend,
            // Only containers may have an unknown size.
            (_, Size::Unknown) => return Header::Invalid,
            (SIMPLE_BLOCK | BLOCK, Size::Known(len)) => Body::Read {
                keep: len.min(BLOCK_HEAD_BYTES),
                len,
            },
            (TIMECODE_SCALE | TIMECODE | BLOCK_DURATION, Size::Known(len)) => {
                if len > MAX_UINT_BYTES {
                    return Header::Invalid;
                }
                Body::Read { keep: len, len }
            }
            (_, Size::Known(len)) => Body::Skip(len),
        };
        if id == BLOCK_GROUP {
            self.group_block = None;
        }
        Header::Element {
            id,
            header_len: id_len + size_len,
            body,
        }
    }

    fn element(&mut self, id: u32, body: &[u8]) {
        let uint = || body.iter().fold(0u64, |n, byte| n << 8 | u64::from(*byte));
        match id {
            TIMECODE_SCALE => self.timecode_scale = uint(),
            TIMECODE => self.cluster = Some(uint()),
            SIMPLE_BLOCK | BLOCK => {
                let Some(start) = self.block_start(body) else {
                    return;
                };
                self.extend(start, start);
                self.group_block = (id == BLOCK).then_some(start);
            }
            BLOCK_DURATION => {
                if let Some(start) = self.group_block {
                    let duration = i64::try_from(uint()).unwrap_or(i64::MAX);
                    self.extend(start, start.saturating_add(duration));
                }
            }
            _ => {}
        }
    }

    fn duration_ms(&self) -> Option<u64> {
        let (start, end) = self.span?;
        let ticks = u64::try_from(end - start).ok()?;
        let nanos = u128::from(ticks) * u128::from(self.timecode_scale);
        u64::try_from((nanos + 500_000) / 1_000_000).ok()
    }
}

impl Webm {
    /// A block's start in ticks: its cluster's timecode plus its own
    /// signed offset, which follows the track number.
    fn block_start(&self, body: &[u8]) -> Option<i64> {
        let cluster = i64::try_from(self.cluster?).ok()?;
        let (_, track_len) = vint(body)?;
        let offset = body.get(track_len..track_len + 2)?;
        Some(cluster + i64::from(i16::from_be_bytes([offset[0], offset[1]])))
    }

    fn extend(&mut self, start: i64, end: i64) {
        self.span = Some(match self.span {
            None => (start, end),
            Some((first, last)) => (first.min(start), last.max(end)),
        });
    }
}

/// An element ID: a variable-length integer of 1 to 4 bytes whose length
/// marker is part of the ID. `None` when the first byte is no ID's.
fn element_id(bytes: &[u8]) -> Option<(u32, usize)> {
    let len = bytes.first()?.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    // Not all of it may be here yet: the caller asks again with more.
    let id = bytes
        .iter()
        .take(len)
        .fold(0u32, |id, byte| id << 8 | u32::from(*byte));
    Some((id, len))
}

enum Size {
    Known(u64),
    /// All value bits set: the element runs until a sibling or a parent's
    /// sibling starts.
    Unknown,
}

/// A variable-length integer of 1 to 8 bytes, its length marker removed.
/// `None` when incomplete or when the first byte is 0 (no length marker).
fn vint(bytes: &[u8]) -> Option<(Size, usize)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || bytes.len() < len {
        return None;
    }
    let marker_removed = u64::from(first) & (0xFF >> len);
    let value = bytes[1..len]
        .iter()
        .fold(marker_removed, |n, byte| n << 8 | u64::from(*byte));
    let all_ones = (1u64 << (7 * len)) - 1;
    let size = if value == all_ones {
        Size::Unknown
    } else {
        Size::Known(value)
    };
    Some((size, len))
}
