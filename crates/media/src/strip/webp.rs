//! WebP: a RIFF list of chunks; the extended header (VP8X) flags which
//! optional chunks are present and must agree with them.

use img_parts::riff::RiffContent;
use img_parts::webp::{
    WebP, CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP, CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X,
};
use img_parts::{Bytes, ImageEXIF};

use super::{exif, StripError};
use crate::MediaType;

const PIXEL_CHUNKS: [[u8; 4]; 7] = [
    CHUNK_VP8X, CHUNK_VP8, CHUNK_VP8L, CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP,
];
const VP8X_XMP_FLAG: u8 = 0b0000_0100;

pub(super) fn strip(webp: &[u8]) -> Result<Vec<u8>, StripError> {
    let mut webp =
        WebP::from_bytes(Bytes::copy_from_slice(webp)).map_err(|error| StripError::Malformed {
            kind: MediaType::Webp,
            reason: error.to_string(),
        })?;
    // img-parts also accepts EXIF chunks that copy JPEG's "Exif\0\0" prefix.
    let orientation = webp.exif().and_then(|tiff| exif::replacement(&tiff));
    webp.chunks_mut()
        .retain(|chunk| PIXEL_CHUNKS.contains(&chunk.id()));
    // Also brings the VP8X EXIF flag in line, and drops VP8X when nothing
    // needs the extended format any more.
    webp.set_exif(orientation.map(Bytes::from));
    clear_xmp_flag(&mut webp);
    Ok(webp.encoder().bytes().to_vec())
}

/// img-parts keeps the XMP flag as it was, but XMP chunks never survive.
fn clear_xmp_flag(webp: &mut WebP) {
    let vp8x = webp
        .chunks_mut()
        .iter_mut()
        .find(|chunk| chunk.id() == CHUNK_VP8X);
    if let Some(RiffContent::Data(data)) = vp8x.map(|chunk| chunk.content_mut()) {
        if let Some(&flags) = data.first() {
            let mut cleared = data.to_vec();
            cleared[0] = flags & !VP8X_XMP_FLAG;
            *data = Bytes::from(cleared);
        }
    }
}
