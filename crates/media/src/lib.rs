//! Inspecting proof media: the photos and short videos shop staff take as
//! packing and delivery proof.
//!
//! - [`sniff`] tells the media type from the first bytes, never from names.
//! - [`strip_location`] removes metadata that can carry a location or
//!   identify a device from photos, before they are stored.
//! - [`probe`] and [`poster`] read duration, size and codecs, and draw a
//!   JPEG thumbnail, through ffprobe and ffmpeg.
//!
//! Proof files are stored encrypted, so nothing here writes plaintext to
//! disk: the ffmpeg tools get the media through pipes.

mod probe;
mod sniff;
mod strip;

pub use probe::loopback::{RangeReader, RangeSource};
pub use probe::{
    poster, probe, ExcerptSpec, FfmpegTools, MediaInfo, ProbeError, DEFAULT_TIMEOUT,
    POSTER_MAX_BYTES,
};
pub use sniff::{extension, sniff, MediaType, SNIFF_LEN};
pub use strip::{strip_location, StripError};
