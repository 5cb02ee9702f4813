//! The one piece of EXIF worth keeping: the Orientation tag, without which
//! a portrait phone photo shows sideways.

/// Prefix of EXIF data inside a JPEG APP1 segment (and, from some writers,
/// inside a WebP EXIF chunk).
pub(super) const JPEG_EXIF_PREFIX: &[u8] = b"Exif\0\0";

const ORIENTATION_TAG: u16 = 0x0112;
const TYPE_SHORT: u16 = 3;
const IFD_ENTRY_LEN: usize = 12;

#[derive(Clone, Copy)]
enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    fn u16_at(self, tiff: &[u8], pos: usize) -> Option<u16> {
        let bytes: [u8; 2] = tiff.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u16::from_le_bytes(bytes),
            ByteOrder::Big => u16::from_be_bytes(bytes),
        })
    }

    fn u32_at(self, tiff: &[u8], pos: usize) -> Option<u32> {
        let bytes: [u8; 4] = tiff.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(bytes),
            ByteOrder::Big => u32::from_be_bytes(bytes),
        })
    }
}

/// The Orientation in IFD0 of a TIFF structure (the EXIF payload), if it is
/// present and one of the eight defined values.
pub(super) fn orientation(tiff: &[u8]) -> Option<u16> {
    let order = match tiff.get(0..4)? {
        b"II\x2a\0" => ByteOrder::Little,
        b"MM\0\x2a" => ByteOrder::Big,
        _ => return None,
    };
    let ifd0 = order.u32_at(tiff, 4)? as usize;
    let entry_count = order.u16_at(tiff, ifd0)? as usize;
    (0..entry_count).find_map(|index| {
        let entry = ifd0.checked_add(2 + index * IFD_ENTRY_LEN)?;
        if order.u16_at(tiff, entry)? != ORIENTATION_TAG
            || order.u16_at(tiff, entry + 2)? != TYPE_SHORT
        {
            return None;
        }
        // A single SHORT sits left-aligned in the entry's 4-byte value field.
        order
            .u16_at(tiff, entry + 8)
            .filter(|value| (1..=8).contains(value))
    })
}

/// A little-endian TIFF whose IFD0 holds the Orientation tag and nothing
/// else: header, one entry, no next IFD.
pub(super) fn orientation_only(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"II\x2a\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&ORIENTATION_TAG.to_le_bytes());
    tiff.extend_from_slice(&TYPE_SHORT.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff
}

/// What to write back in place of the original EXIF: only a rotation that
/// is not the default, since "upright" (1) needs no tag at all.
pub(super) fn replacement(tiff: &[u8]) -> Option<Vec<u8>> {
    orientation(tiff)
        .filter(|&value| value != 1)
        .map(orientation_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_only_reads_back() {
        let tiff = orientation_only(6);
        assert_eq!(tiff.len(), 26);
        assert_eq!(orientation(&tiff), Some(6));
    }

    #[test]
    fn reads_big_endian_after_other_tags() {
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x02".to_vec();
        // Make, ASCII, 4 bytes inline: "Acm\0"
        tiff.extend_from_slice(&[0x01, 0x0f, 0, 2, 0, 0, 0, 4, b'A', b'c', b'm', 0]);
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(orientation(&tiff), Some(8));
    }

    #[test]
    fn ignores_broken_or_default_orientation() {
        // IFD0 offset past the end
        assert_eq!(orientation(b"II\x2a\0\xff\0\0\0"), None);
        // entry count promising more entries than there are bytes
        assert_eq!(orientation(b"II\x2a\0\x08\0\0\0\xff\xff"), None);
        assert_eq!(orientation(b"not a tiff at all"), None);
        let mut out_of_range = orientation_only(6);
        out_of_range[18] = 9;
        assert_eq!(orientation(&out_of_range), None);
        assert_eq!(replacement(&orientation_only(1)), None);
        assert_eq!(replacement(&orientation_only(3)), Some(orientation_only(3)));
    }
}
