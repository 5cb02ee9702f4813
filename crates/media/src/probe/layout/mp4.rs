//! Fragmented MP4 (ISO/IEC 14496-12): each track's timescale from the
//! `moov`, then every fragment's `tfdt` start plus its `trun` sample
//! durations. Only fragmented files get an answer; a plain MP4's header
//! already holds its length and ffprobe reads it.
use std::collections::BTreeMap;

use super::{Body, Fields, Format, Header};

#[derive(Debug, Default)]
pub(super) struct Mp4 {
    tracks: BTreeMap<u32, Track>,
    /// The `trak` whose boxes are being read (set by its `tkhd`).
    moov_track: Option<u32>,
    /// The `traf` whose boxes are being read (set by its `tfhd`).
    fragment: Option<TrackFragment>,
}

#[derive(Debug, Default)]
struct Track {
    /// Ticks per second (`mdhd`).
    timescale: u32,
    /// A sample's duration when neither `trun` nor `tfhd` gives one (`trex`).
    default_duration: u32,
    /// Decode time of the first sample and the end of the last, in ticks.
    first: Option<u64>,
    end: u64,
}

#[derive(Debug)]
struct TrackFragment {
    track: u32,
    default_duration: Option<u32>,
    /// Where the next `trun`'s first sample starts, in ticks.
    cursor: u64,
}

const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX: u32 = 0x02;
const TFHD_DEFAULT_SAMPLE_DURATION: u32 = 0x08;
const TRUN_DATA_OFFSET: u32 = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS: u32 = 0x04;
const TRUN_SAMPLE_DURATION: u32 = 0x100;
const TRUN_SAMPLE_SIZE: u32 = 0x200;
const TRUN_SAMPLE_FLAGS: u32 = 0x400;
const TRUN_SAMPLE_COMPOSITION_OFFSET: u32 = 0x800;

impl Format for Mp4 {
    fn header(&mut self, bytes: &[u8]) -> Header {
        let mut fields = Fields(bytes);
        let (Some(size), Some(kind)) = (fields.u32(), fields.take::<4>()) else {
            return Header::NeedMore;
        };
        let (header_len, len) = match size {
            0 => (8, u64::MAX),
            1 => match fields.u64() {
                None => return Header::NeedMore,
                Some(size) => (16, size.wrapping_sub(16)),
            },
            size => (8, u64::from(size).wrapping_sub(8)),
        };
        if len != u64::MAX && len > i64::MAX as u64 {
            return Header::Invalid; // smaller than its own header
        }
        let body = match &kind {
            b"moov" | b"trak" | b"mdia" | b"mvex" | b"moof" | b"traf" => Body::Descend,
            b"tkhd" | b"mdhd" | b"trex" | b"tfhd" | b"tfdt" | b"trun" => {
                match Body::read_whole(len) {
                    Some(body) => body,
                    None => return Header::Invalid,
                }
            }
            _ => Body::Skip(len),
        };
        if &kind == b"traf" {
            self.fragment = None;
        }
        Header::Element {
            id: u32::from_be_bytes(kind),
            header_len,
            body,
        }
    }

    fn element(&mut self, id: u32, body: &[u8]) {
        // A malformed box is ignored: ffprobe has its say on damaged files.
        let _ = match &id.to_be_bytes() {
            b"tkhd" => self.track_header(Fields(body)),
            b"mdhd" => self.media_header(Fields(body)),
            b"trex" => self.track_extends(Fields(body)),
            b"tfhd" => self.fragment_header(Fields(body)),
            b"tfdt" => self.decode_time(Fields(body)),
            b"trun" => self.run(Fields(body)),
            _ => None,
        };
    }

    fn duration_ms(&self) -> Option<u64> {
        let spans = self.tracks.values().filter_map(|track| {
            let first = track.first?;
            let seconds = |ticks: u64| ticks as f64 / f64::from(track.timescale);
            (track.timescale > 0).then(|| (seconds(first), seconds(track.end)))
        });
        let (start, end) = spans.fold(None, |span: Option<(f64, f64)>, (first, last)| {
            Some(span.map_or((first, last), |(start, end)| {
                (start.min(first), end.max(last))
            }))
        })?;
        Some(((end - start).max(0.0) * 1000.0).round() as u64)
    }
}

/// A full box's version, and its 24 flag bits.
fn version_and_flags(fields: &mut Fields) -> Option<(u8, u32)> {
    let word = fields.u32()?;
    Some(((word >> 24) as u8, word & 0x00ff_ffff))
}

impl Mp4 {
    fn track_header(&mut self, mut fields: Fields) -> Option<()> {
        let (version, _) = version_and_flags(&mut fields)?;
        // Creation and modification times come first.
        fields.skip(if version == 1 { 16 } else { 8 })?;
        let id = fields.u32()?;
        self.tracks.entry(id).or_default();
        self.moov_track = Some(id);
        Some(())
    }

    fn media_header(&mut self, mut fields: Fields) -> Option<()> {
        let (version, _) = version_and_flags(&mut fields)?;
        fields.skip(if version == 1 { 16 } else { 8 })?;
        let timescale = fields.u32()?;
        self.tracks.get_mut(&self.moov_track?)?.timescale = timescale;
        Some(())
    }

    fn track_extends(&mut self, mut fields: Fields) -> Option<()> {
        version_and_flags(&mut fields)?;
        let id = fields.u32()?;
        fields.skip(4)?; // default sample description index
        self.tracks.entry(id).or_default().default_duration = fields.u32()?;
        Some(())
    }

    fn fragment_header(&mut self, mut fields: Fields) -> Option<()> {
        let (_, flags) = version_and_flags(&mut fields)?;
        let track = fields.u32()?;
        if flags & TFHD_BASE_DATA_OFFSET != 0 {
            fields.skip(8)?;
        }
        if flags & TFHD_SAMPLE_DESCRIPTION_INDEX != 0 {
            fields.skip(4)?;
        }
        let default_duration = if flags & TFHD_DEFAULT_SAMPLE_DURATION != 0 {
            Some(fields.u32()?)
        } else {
            None
        };
        // Without a `tfdt`, a fragment follows on from the track's last.
        let cursor = self.tracks.get(&track).map_or(0, |t| t.end);
        self.fragment = Some(TrackFragment {
            track,
            default_duration,
            cursor,
        });
        Some(())
    }

    fn decode_time(&mut self, mut fields: Fields) -> Option<()> {
        let (version, _) = version_and_flags(&mut fields)?;
        let time = if version == 1 {
            fields.u64()?
        } else {
            u64::from(fields.u32()?)
        };
        self.fragment.as_mut()?.cursor = time;
        Some(())
    }

    fn run(&mut self, mut fields: Fields) -> Option<()> {
        let (_, flags) = version_and_flags(&mut fields)?;
        let samples = fields.u32()?;
        for (flag, len) in [(TRUN_DATA_OFFSET, 4), (TRUN_FIRST_SAMPLE_FLAGS, 4)] {
            if flags & flag != 0 {
                fields.skip(len)?;
            }
        }
        let fragment = self.fragment.as_mut()?;
        let track = self.tracks.entry(fragment.track).or_default();
        let default_duration = fragment.default_duration.unwrap_or(track.default_duration);
        let other_fields: usize = [
            TRUN_SAMPLE_SIZE,
            TRUN_SAMPLE_FLAGS,
            TRUN_SAMPLE_COMPOSITION_OFFSET,
        ]
        .iter()
        .filter(|flag| flags & **flag != 0)
        .count()
            * 4;
        let start = fragment.cursor;
        let mut end = start;
        for _ in 0..samples {
            let duration = if flags & TRUN_SAMPLE_DURATION != 0 {
                fields.u32()?
            } else {
                default_duration
            };
            fields.skip(other_fields)?;
            end += u64::from(duration);
        }
        fragment.cursor = end;
        if samples > 0 {
            track.first = Some(track.first.map_or(start, |first| first.min(start)));
            track.end = track.end.max(end);
        }
        Some(())
    }
}
