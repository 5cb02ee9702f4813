//! JPEG: a walk over every marker segment of the file.
//!
//! img-parts keeps everything after the first scan as one opaque block, but
//! progressive JPEGs may carry APPn segments between scans, and bytes after
//! the end-of-image marker (MPF secondary images, vendor trailers) carry
//! their own EXIF. So this walks the whole file and stops at EOI.

use super::exif::{self, JPEG_EXIF_PREFIX};
use super::StripError;
use crate::MediaType;

const SOI: u8 = 0xd8;
const EOI: u8 = 0xd9;
const SOS: u8 = 0xda;
const APP0: u8 = 0xe0;
const APP1: u8 = 0xe1;
const APP2: u8 = 0xe2;
const APP14: u8 = 0xee;
const APP15: u8 = 0xef;
const COM: u8 = 0xfe;

/// A stretch of the file after SOI: a marker segment or the entropy-coded
/// data that follows a start-of-scan segment.
enum Piece<'a> {
    Segment(Segment<'a>),
    ScanData(&'a [u8]),
}

/// A marker segment: the whole of it, marker and length included.
struct Segment<'a> {
    marker: u8,
    bytes: &'a [u8],
}

impl Segment<'_> {
    fn payload(&self) -> &[u8] {
        self.bytes.get(4..).unwrap_or_default()
    }

    fn exif(&self) -> Option<&[u8]> {
        (self.marker == APP1)
            .then(|| self.payload().strip_prefix(JPEG_EXIF_PREFIX))
            .flatten()
    }

    /// APPn and COM segments are free-form metadata; only those needed to
    /// show the colours right are kept.
    fn is_kept(&self) -> bool {
        let payload = self.payload();
        match self.marker {
            APP0 => payload.starts_with(b"JFIF\0"),
            APP2 => payload.starts_with(b"ICC_PROFILE\0"),
            APP14 => payload.starts_with(b"Adobe"),
            APP0..=APP15 | COM => false,
            _ => true,
        }
    }
}

fn malformed(reason: &str) -> StripError {
    StripError::Malformed {
        kind: MediaType::Jpeg,
        reason: reason.to_owned(),
    }
}

pub(super) fn strip(jpeg: &[u8]) -> Result<Vec<u8>, StripError> {
    if !jpeg.starts_with(&[0xff, SOI]) {
        return Err(malformed("it does not start with a start-of-image marker"));
    }
    let pieces = split(jpeg)?;
    let orientation = pieces
        .iter()
        .find_map(|piece| match piece {
            Piece::Segment(segment) => segment.exif(),
            Piece::ScanData(_) => None,
        })
        .and_then(exif::replacement);

    let mut out = Vec::with_capacity(jpeg.len());
    out.extend_from_slice(&[0xff, SOI]);
    let mut orientation = orientation.map(orientation_segment);
    for piece in &pieces {
        match piece {
            Piece::Segment(segment) if !segment.is_kept() => continue,
            Piece::Segment(segment) => {
                // EXIF goes right after the JFIF segment, where readers look.
                if segment.marker != APP0 {
                    if let Some(exif) = orientation.take() {
                        out.extend_from_slice(&exif);
                    }
                }
                out.extend_from_slice(segment.bytes);
            }
            Piece::ScanData(data) => out.extend_from_slice(data),
        }
    }
    Ok(out)
}

fn orientation_segment(tiff: Vec<u8>) -> Vec<u8> {
    let length = 2 + JPEG_EXIF_PREFIX.len() + tiff.len();
    let mut segment = vec![0xff, APP1];
    // A 26-byte TIFF always fits the 16-bit length.
    segment.extend_from_slice(&(length as u16).to_be_bytes());
    segment.extend_from_slice(JPEG_EXIF_PREFIX);
    segment.extend_from_slice(&tiff);
    segment
}

/// Splits the file after SOI into pieces, up to and including EOI. A file
/// cut off inside scan data ends there, as decoders accept that; one cut
/// inside a segment is malformed.
fn split(jpeg: &[u8]) -> Result<Vec<Piece<'_>>, StripError> {
    let mut pieces = Vec::new();
    let mut pos = 2;
    while pos < jpeg.len() {
        if jpeg[pos] != 0xff {
            return Err(malformed("a marker was expected between segments"));
        }
        // Any number of 0xff fill bytes may precede a marker.
        while jpeg.get(pos + 1) == Some(&0xff) {
            pos += 1;
        }
        let start = pos;
        let marker = *jpeg
            .get(pos + 1)
            .ok_or_else(|| malformed("it ends inside a marker"))?;
        // Markers without a length: EOI ends the image, the others carry no data.
        if matches!(marker, EOI | 0x01 | 0xd0..=0xd7) {
            let bytes = &jpeg[start..start + 2];
            pieces.push(Piece::Segment(Segment { marker, bytes }));
            pos = start + 2;
            if marker == EOI {
                break;
            }
            continue;
        }
        let length = jpeg
            .get(pos + 2..pos + 4)
            .map(|bytes| usize::from(u16::from_be_bytes([bytes[0], bytes[1]])))
            .filter(|&length| length >= 2)
            .ok_or_else(|| malformed("a segment length is missing or too small"))?;
        let end = start + 2 + length;
        let bytes = jpeg
            .get(start..end)
            .ok_or_else(|| malformed("a segment runs past the end of the file"))?;
        pieces.push(Piece::Segment(Segment { marker, bytes }));
        pos = end;
        if marker == SOS {
            let scan_end = scan_data_end(jpeg, pos);
            pieces.push(Piece::ScanData(&jpeg[pos..scan_end]));
            pos = scan_end;
        }
    }
    Ok(pieces)
}

/// Scan data runs until a marker other than a stuffed zero (0xff00) or a
/// restart marker (0xffd0..=0xffd7), both of which belong to the data.
fn scan_data_end(jpeg: &[u8], start: usize) -> usize {
    let mut pos = start;
    while pos + 1 < jpeg.len() {
        if jpeg[pos] == 0xff && !matches!(jpeg[pos + 1], 0x00 | 0xd0..=0xd7) {
            return pos;
        }
        pos += 1;
    }
    jpeg.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xff, marker];
        bytes.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn drops_metadata_between_scans_and_after_the_end() {
        let sos = segment(SOS, &[1, 1, 0, 0, 0x3f, 0]);
        let scan = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56];
        let mut jpeg = vec![0xff, SOI];
        jpeg.extend(segment(APP0, b"JFIF\0rest"));
        jpeg.extend(segment(0xdb, &[0; 65]));
        jpeg.extend(&sos);
        jpeg.extend(scan);
        jpeg.extend(segment(APP1, b"http://ns.adobe.com/xap/1.0/\0<GPS/>"));
        jpeg.extend(segment(COM, b"phone serial 42"));
        jpeg.extend(&sos);
        jpeg.extend(scan);
        jpeg.extend([0xff, EOI]);
        jpeg.extend(b"trailer with Exif\0\0 of a second image");

        let stripped = strip(&jpeg).unwrap();

        let mut expected = vec![0xff, SOI];
        expected.extend(segment(APP0, b"JFIF\0rest"));
        expected.extend(segment(0xdb, &[0; 65]));
        expected.extend(&sos);
        expected.extend(scan);
        expected.extend(&sos);
        expected.extend(scan);
        expected.extend([0xff, EOI]);
        assert_eq!(stripped, expected);
    }

    #[test]
    fn rejects_truncated_segments() {
        let mut jpeg = vec![0xff, SOI];
        jpeg.extend(&segment(APP1, b"Exif\0\0MM\0\x2a")[..8]);
        assert!(matches!(
            strip(&jpeg),
            Err(StripError::Malformed {
                kind: MediaType::Jpeg,
                ..
            })
        ));
        assert!(strip(b"\xff\xd8\xff\xe0\x00").is_err());
        assert!(strip(b"\x89PNG").is_err());
    }
}
