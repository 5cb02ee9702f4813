//! Recognising proof media from its first bytes.
//!
//! File names and the content type a client sends are chosen by the client,
//! so the type is decided here from magic numbers alone.

/// How many leading bytes [`sniff`] looks at. Fewer bytes still work for the
/// short signatures (JPEG, PNG, WebP), but MP4/HEIC brands and the WebM
/// DocType sit further in, so callers should pass at least this many when
/// the file is that long.
pub const SNIFF_LEN: usize = 64;

/// The photo and video formats accepted as proof media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Heic,
    Mp4,
    QuickTime,
    Webm,
}

impl MediaType {
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Heic => "image/heic",
            MediaType::Mp4 => "video/mp4",
            MediaType::QuickTime => "video/quicktime",
            MediaType::Webm => "video/webm",
        }
    }

    pub fn is_photo(self) -> bool {
        matches!(
            self,
            MediaType::Jpeg | MediaType::Png | MediaType::Webp | MediaType::Heic
        )
    }

    pub fn is_video(self) -> bool {
        !self.is_photo()
    }
}

/// The usual file extension, without the dot, for naming downloads.
pub fn extension(kind: MediaType) -> &'static str {
    match kind {
        MediaType::Jpeg => "jpg",
        MediaType::Png => "png",
        MediaType::Webp => "webp",
        MediaType::Heic => "heic",
        MediaType::Mp4 => "mp4",
        MediaType::QuickTime => "mov",
        MediaType::Webm => "webm",
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const EBML_MAGIC: &[u8] = &[0x1a, 0x45, 0xdf, 0xa3];
const EBML_DOCTYPE_ID: u32 = 0x4282;

/// Recognises the media type from the first bytes of a file (see
/// [`SNIFF_LEN`]), or `None` for anything that is not accepted proof media.
pub fn sniff(first_bytes: &[u8]) -> Option<MediaType> {
    let bytes = &first_bytes[..first_bytes.len().min(SNIFF_LEN)];
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(MediaType::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if bytes.get(4..8) == Some(b"ftyp") {
        sniff_ftyp(bytes)
    } else if bytes.starts_with(EBML_MAGIC) {
        sniff_ebml(bytes)
    } else {
        None
    }
}

/// ISO base media files (MP4, QuickTime, HEIC) share one container; the
/// `ftyp` box names a major brand and the brands the file is compatible with.
fn sniff_ftyp(bytes: &[u8]) -> Option<MediaType> {
    let box_size = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let major = bytes.get(8..12)?;
    // Bytes 12..16 are the minor version; compatible brands follow up to the
    // end of the box, or of what was sniffed.
    let end = box_size.min(bytes.len()).max(16);
    let compatible = bytes.get(16..end).unwrap_or_default().chunks_exact(4);
    let brands: Vec<&[u8]> = std::iter::once(major).chain(compatible).collect();
    // AVIF shares HEIF's generic brands, so it is ruled out first.
    if brands
        .iter()
        .any(|brand| matches!(*brand, b"avif" | b"avis"))
    {
        return None;
    }
    brands
        .iter()
        .find_map(|brand| brand_type(brand))
        .or_else(|| {
            // Only generic HEIF brands: still a HEIF photo.
            brands
                .iter()
                .any(|brand| matches!(*brand, b"mif1" | b"msf1"))
                .then_some(MediaType::Heic)
        })
}

fn brand_type(brand: &[u8]) -> Option<MediaType> {
    match brand {
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => Some(MediaType::Heic),
        b"qt  " => Some(MediaType::QuickTime),
        b"isom" | b"iso2" | b"iso3" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1"
        | b"dash" | b"M4V " => Some(MediaType::Mp4),
        _ => None,
    }
}

/// WebM is Matroska restricted to open codecs; only the DocType inside the
/// EBML header tells them apart, and plain Matroska is not accepted.
fn sniff_ebml(bytes: &[u8]) -> Option<MediaType> {
    let (header_size, mut pos) = read_vint(bytes, EBML_MAGIC.len())?;
    let header_end = pos.saturating_add(header_size as usize).min(bytes.len());
    while pos < header_end {
        let (id, after_id) = read_element_id(bytes, pos)?;
        let (size, data_start) = read_vint(bytes, after_id)?;
        let data_end = data_start.checked_add(usize::try_from(size).ok()?)?;
        if id == EBML_DOCTYPE_ID {
            let doc_type = bytes.get(data_start..data_end)?;
            return (doc_type == b"webm").then_some(MediaType::Webm);
        }
        pos = data_end;
    }
    None
}

/// Length in bytes of an EBML variable-length integer, from its first byte's
/// leading zeros.
fn vint_len(first: u8) -> Option<usize> {
    let len = first.leading_zeros() as usize + 1;
    (len <= 8).then_some(len)
}

/// Element ids keep their length marker bits, so they are compared whole.
fn read_element_id(bytes: &[u8], pos: usize) -> Option<(u32, usize)> {
    let len = vint_len(*bytes.get(pos)?)?;
    if len > 4 {
        return None;
    }
    let id = bytes
        .get(pos..pos + len)?
        .iter()
        .fold(0u32, |id, &b| (id << 8) | u32::from(b));
    Some((id, pos + len))
}

/// Element sizes drop the marker bit. The all-ones "unknown size" is not
/// expected inside the EBML header and reads as a size past the sniffed bytes.
fn read_vint(bytes: &[u8], pos: usize) -> Option<(u64, usize)> {
    let first = *bytes.get(pos)?;
    let len = vint_len(first)?;
    let marker_cleared = u64::from(first) & (0xff >> len);
    let value = bytes
        .get(pos + 1..pos + len)?
        .iter()
        .fold(marker_cleared, |value, &b| (value << 8) | u64::from(b));
    Some((value, pos + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut bytes = (size as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            bytes.extend_from_slice(*brand);
        }
        // what follows the ftyp box must not be read as a brand
        bytes.extend_from_slice(b"\0\0\0\x08heic");
        bytes
    }

    #[test]
    fn rejects_other_files() {
        let others: [&[u8]; 7] = [
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
            b"Order 1234 packed by Rina\n",
            b"",
            b"\xff\xd8",
            b"RIFF\x24\x00\x00\x00WAVEfmt ",
        ];
        for bytes in others {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn tells_isobmff_brands_apart() {
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1"])), Some(MediaType::Heic));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"heic"])), Some(MediaType::Heic));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"miaf"])), Some(MediaType::Heic));
        assert_eq!(
            sniff(&ftyp(b"qt  ", &[b"qt  "])),
            Some(MediaType::QuickTime)
        );
        assert_eq!(sniff(&ftyp(b"mp42", &[b"isom"])), Some(MediaType::Mp4));
        assert_eq!(
            sniff(&ftyp(b"XAVC", &[b"mp42", b"iso2"])),
            Some(MediaType::Mp4)
        );
        assert_eq!(sniff(&ftyp(b"avif", &[b"mif1"])), None);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"avif"])), None);
        assert_eq!(sniff(&ftyp(b"M4A ", &[b"M4A "])), None);
        assert_eq!(sniff(&ftyp(b"crx ", &[])), None);
    }

    #[test]
    fn webm_needs_the_webm_doctype() {
        let header = |doc_type: &[u8]| {
            let mut body = vec![0x42, 0x86, 0x81, 0x01];
            body.extend_from_slice(&[0x42, 0x82, 0x80 | doc_type.len() as u8]);
            body.extend_from_slice(doc_type);
            let mut bytes = EBML_MAGIC.to_vec();
            bytes.push(0x80 | body.len() as u8);
            bytes.extend_from_slice(&body);
            bytes
        };
        assert_eq!(sniff(&header(b"webm")), Some(MediaType::Webm));
        assert_eq!(sniff(&header(b"matroska")), None);
        // DocType missing from a truncated header
        assert_eq!(sniff(&header(b"webm")[..8]), None);
    }

    #[test]
    fn names_every_type() {
        let all = [
            MediaType::Jpeg,
            MediaType::Png,
            MediaType::Webp,
            MediaType::Heic,
            MediaType::Mp4,
            MediaType::QuickTime,
            MediaType::Webm,
        ];
        let photos: Vec<_> = all.iter().filter(|kind| kind.is_photo()).collect();
        assert_eq!(photos.len(), 4);
        for kind in all {
            let expected_prefix = if kind.is_video() { "video/" } else { "image/" };
            assert!(kind.mime().starts_with(expected_prefix), "{kind:?}");
        }
        assert_eq!(extension(MediaType::QuickTime), "mov");
        assert_eq!(MediaType::Webm.mime(), "video/webm");
    }
}
