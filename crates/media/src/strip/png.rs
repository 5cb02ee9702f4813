//! PNG: chunks are kept from a list of those that only describe pixels.
//!
//! Besides eXIf and the three text chunks, apps invent private ancillary
//! chunks; any of them may carry a location, so unknown ones go too.

use img_parts::png::Png;
use img_parts::{Bytes, ImageEXIF};

use super::{exif, StripError};
use crate::MediaType;

const PIXEL_CHUNKS: [&[u8; 4]; 16] = [
    b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCv", b"cLLi", b"bKGD",
    b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT",
];

fn is_kept(kind: [u8; 4]) -> bool {
    // An uppercase first letter marks a critical chunk: without it the image
    // cannot be decoded (IHDR, PLTE, IDAT, IEND).
    kind[0].is_ascii_uppercase() || PIXEL_CHUNKS.contains(&&kind)
}

pub(super) fn strip(png: &[u8]) -> Result<Vec<u8>, StripError> {
    let mut png =
        Png::from_bytes(Bytes::copy_from_slice(png)).map_err(|error| StripError::Malformed {
            kind: MediaType::Png,
            reason: error.to_string(),
        })?;
    let orientation = png.exif().and_then(|tiff| exif::replacement(&tiff));
    png.chunks_mut().retain(|chunk| is_kept(chunk.kind()));
    png.set_exif(orientation.map(Bytes::from));
    Ok(png.encoder().bytes().to_vec())
}
