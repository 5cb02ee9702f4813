//! Removing location and device identity from photos before they are stored.
//!
//! The shop's privacy policy does not collect location, so nothing that can
//! carry it survives: EXIF (GPS IFD, maker notes, serial numbers), XMP, IPTC
//! and free text. Only what is needed to show the picture right is kept:
//! colour profiles and the EXIF Orientation. Image data is copied byte for
//! byte, never re-encoded.

mod exif;
mod jpeg;
mod png;
mod webp;

use crate::MediaType;

#[derive(Debug, thiserror::Error)]
pub enum StripError {
    #[error("location metadata cannot be stripped from {} files; only JPEG, PNG and WebP are supported", .0.mime())]
    Unsupported(MediaType),
    #[error("the {} file is malformed: {reason}", .kind.mime())]
    Malformed { kind: MediaType, reason: String },
}

/// Returns a copy of `photo` without any metadata block that can carry a
/// location or identify the device. `kind` should come from
/// [`sniff`](crate::sniff); a photo that does not parse as `kind` is
/// [`StripError::Malformed`].
///
/// HEIC is [`StripError::Unsupported`]: its metadata lives in items that the
/// image data points into by offset, so removing it is not a byte-level edit.
pub fn strip_location(photo: &[u8], kind: MediaType) -> Result<Vec<u8>, StripError> {
    match kind {
        MediaType::Jpeg => jpeg::strip(photo),
        MediaType::Png => png::strip(photo),
        MediaType::Webp => webp::strip(photo),
        MediaType::Heic | MediaType::Mp4 | MediaType::QuickTime | MediaType::Webm => {
            Err(StripError::Unsupported(kind))
        }
    }
}
