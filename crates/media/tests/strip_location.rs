mod common;

use chotomoni_media::{strip_location, MediaType, StripError};
use common::{
    assert_no_location, camera_exif, contains, decodes_cleanly, orientation_only_exif, Fixture,
    XMP_WITH_LOCATION,
};
use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::png::{Png, PngChunk};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::{WebP, CHUNK_EXIF, CHUNK_VP8, CHUNK_VP8X, CHUNK_XMP};
use img_parts::{Bytes, ImageEXIF, ImageICC};

fn jpeg_segment(marker: u8, prefix: &[u8], body: &[u8]) -> JpegSegment {
    JpegSegment::new_with_contents(marker, Bytes::from([prefix, body].concat()))
}

/// The segments that make up the picture: everything but APPn and comments,
/// each with its scan data.
fn jpeg_image_segments(jpeg: &[u8]) -> Vec<Bytes> {
    Jpeg::from_bytes(Bytes::copy_from_slice(jpeg))
        .unwrap()
        .segments()
        .iter()
        .filter(|segment| {
            !matches!(
                segment.marker(),
                markers::APP0..=markers::APP15 | markers::COM
            )
        })
        .map(|segment| segment.clone().encoder().bytes())
        .collect()
}

#[test]
fn jpeg_loses_location_and_keeps_orientation() {
    let original = Fixture::Jpeg.bytes();
    let mut jpeg = Jpeg::from_bytes(Bytes::from(original.clone())).unwrap();
    let metadata = [
        jpeg_segment(markers::APP1, b"Exif\0\0", &camera_exif(6)),
        jpeg_segment(
            markers::APP1,
            b"http://ns.adobe.com/xap/1.0/\0",
            XMP_WITH_LOCATION,
        ),
        jpeg_segment(
            markers::APP13,
            b"Photoshop 3.0\0",
            b"8BIM\x04\x04 City: Dhaka",
        ),
        jpeg_segment(
            markers::APP2,
            b"ICC_PROFILE\0\x01\x01",
            b"not a real profile",
        ),
    ];
    jpeg.segments_mut().splice(1..1, metadata);
    let with_location = jpeg.encoder().bytes().to_vec();
    assert!(
        contains(&with_location, b"AcmeCam"),
        "the test must inject real metadata"
    );

    let stripped = strip_location(&with_location, MediaType::Jpeg).unwrap();

    assert_no_location(&stripped);
    let stripped_jpeg = Jpeg::from_bytes(Bytes::from(stripped.clone())).unwrap();
    let exif = stripped_jpeg.exif().expect("orientation is kept as EXIF");
    assert_eq!(exif.to_vec(), orientation_only_exif(6));
    assert!(!contains(&exif, &[0x88, 0x25]) && !contains(&exif, &[0x25, 0x88]));
    assert_eq!(
        stripped_jpeg.icc_profile().as_deref(),
        Some(&b"not a real profile"[..])
    );
    assert!(stripped_jpeg.segment_by_marker(markers::APP13).is_none());
    assert_eq!(
        jpeg_image_segments(&stripped),
        jpeg_image_segments(&original)
    );
    assert!(decodes_cleanly(&stripped));
}

#[test]
fn jpeg_without_metadata_only_loses_its_comment() {
    let original = Fixture::Jpeg.bytes();
    let mut expected = Jpeg::from_bytes(Bytes::from(original.clone())).unwrap();
    assert!(
        expected.segment_by_marker(markers::COM).is_some(),
        "ffmpeg writes a COM"
    );
    expected.remove_segments_by_marker(markers::COM);

    let stripped = strip_location(&original, MediaType::Jpeg).unwrap();

    assert_eq!(stripped, expected.encoder().bytes().to_vec());
}

#[test]
fn jpeg_with_upright_orientation_gets_no_exif() {
    let mut jpeg = Jpeg::from_bytes(Bytes::from(Fixture::Jpeg.bytes())).unwrap();
    jpeg.set_exif(Some(Bytes::from(camera_exif(1))));
    let stripped = strip_location(&jpeg.encoder().bytes(), MediaType::Jpeg).unwrap();
    let stripped = Jpeg::from_bytes(Bytes::from(stripped)).unwrap();
    assert_eq!(stripped.exif(), None);
    assert!(stripped.segment_by_marker(markers::APP1).is_none());
}

fn png_chunk(kind: &[u8; 4], contents: &[u8]) -> PngChunk {
    PngChunk::new(*kind, Bytes::copy_from_slice(contents))
}

fn png_chunk_kinds(png: &Png) -> Vec<[u8; 4]> {
    png.chunks().iter().map(PngChunk::kind).collect()
}

#[test]
fn png_loses_location_and_keeps_orientation() {
    let original = Png::from_bytes(Bytes::from(Fixture::Png.bytes())).unwrap();
    let mut png = original.clone();
    let metadata = [
        png_chunk(b"eXIf", &camera_exif(6)),
        png_chunk(b"tEXt", b"Location\0Dhaka 23.8036 90.4156"),
        png_chunk(
            b"iTXt",
            &[b"XML:com.adobe.xmp\0\0\0\0\0", XMP_WITH_LOCATION].concat(),
        ),
        png_chunk(b"zTXt", b"Comment\0\0x\x9c\x03\0\0\0\0\x01"),
        png_chunk(b"tIME", &[0x07, 0xe9, 1, 2, 3, 4, 5]),
    ];
    png.chunks_mut().splice(1..1, metadata);
    let with_location = png.encoder().bytes().to_vec();

    let stripped = strip_location(&with_location, MediaType::Png).unwrap();

    assert_no_location(&stripped);
    let stripped_png = Png::from_bytes(Bytes::from(stripped.clone())).unwrap();
    assert_eq!(
        stripped_png.exif().unwrap().to_vec(),
        orientation_only_exif(6)
    );
    let mut expected_kinds = png_chunk_kinds(&original);
    expected_kinds.insert(1, *b"eXIf");
    assert_eq!(png_chunk_kinds(&stripped_png), expected_kinds);
    let idat = |png: &Png| -> Vec<Bytes> {
        png.chunks_by_type(*b"IDAT")
            .map(|chunk| chunk.contents().clone())
            .collect()
    };
    assert_eq!(idat(&stripped_png), idat(&original));
    assert!(decodes_cleanly(&stripped));
}

#[test]
fn png_without_metadata_comes_back_unchanged() {
    let original = Fixture::Png.bytes();
    assert_eq!(strip_location(&original, MediaType::Png).unwrap(), original);
}

fn webp_with(chunks: Vec<RiffChunk>) -> Vec<u8> {
    let riff = RiffContent::List {
        kind: Some(*b"WEBP"),
        subchunks: chunks,
    };
    WebP::new(RiffChunk::new(*b"RIFF", riff))
        .unwrap()
        .encoder()
        .bytes()
        .to_vec()
}

fn riff_chunk(id: [u8; 4], data: Vec<u8>) -> RiffChunk {
    RiffChunk::new(id, RiffContent::Data(Bytes::from(data)))
}

fn webp_chunk_data(webp: &WebP, id: [u8; 4]) -> Option<Bytes> {
    webp.chunk_by_id(id)?.content().data().cloned()
}

/// An extended WebP with EXIF (orientation `orientation`) and XMP around
/// the VP8 image data that ffmpeg made, and that image data.
fn extended_webp(orientation: u16) -> (Vec<u8>, Bytes) {
    let simple = WebP::from_bytes(Bytes::from(Fixture::Webp.bytes())).unwrap();
    let vp8 = webp_chunk_data(&simple, CHUNK_VP8).expect("ffmpeg writes a lossy WebP");
    const EXIF_AND_XMP_FLAGS: u8 = 0b0000_1100;
    // flags, 3 reserved bytes, then canvas width - 1 and height - 1 (24 bits each)
    let vp8x = [EXIF_AND_XMP_FLAGS, 0, 0, 0, 0x3f, 0x01, 0, 0xef, 0, 0];
    let webp = webp_with(vec![
        riff_chunk(CHUNK_VP8X, vp8x.to_vec()),
        riff_chunk(CHUNK_VP8, vp8.to_vec()),
        riff_chunk(CHUNK_EXIF, camera_exif(orientation)),
        riff_chunk(CHUNK_XMP, XMP_WITH_LOCATION.to_vec()),
    ]);
    (webp, vp8)
}

#[test]
fn webp_loses_location_and_keeps_orientation() {
    let (with_location, vp8) = extended_webp(6);
    assert!(
        decodes_cleanly(&with_location),
        "the test input must be a valid WebP"
    );

    let stripped = strip_location(&with_location, MediaType::Webp).unwrap();

    assert_no_location(&stripped);
    let webp = WebP::from_bytes(Bytes::from(stripped.clone())).unwrap();
    let ids: Vec<_> = webp.chunks().iter().map(RiffChunk::id).collect();
    assert_eq!(ids, [CHUNK_VP8X, CHUNK_VP8, CHUNK_EXIF]);
    assert_eq!(webp_chunk_data(&webp, CHUNK_VP8), Some(vp8));
    assert_eq!(webp.exif().unwrap().to_vec(), orientation_only_exif(6));
    let flags = webp_chunk_data(&webp, CHUNK_VP8X).unwrap()[0];
    assert_eq!(flags, 0b0000_1000, "EXIF flag set, XMP flag cleared");
    assert!(decodes_cleanly(&stripped));
}

#[test]
fn webp_without_orientation_becomes_a_simple_webp() {
    let (with_location, vp8) = extended_webp(1);
    let stripped = strip_location(&with_location, MediaType::Webp).unwrap();
    let webp = WebP::from_bytes(Bytes::from(stripped.clone())).unwrap();
    let ids: Vec<_> = webp.chunks().iter().map(RiffChunk::id).collect();
    assert_eq!(ids, [CHUNK_VP8]);
    assert_eq!(webp_chunk_data(&webp, CHUNK_VP8), Some(vp8));
    assert!(decodes_cleanly(&stripped));
}

#[test]
fn videos_heic_and_wrong_types_are_refused() {
    let mp4 = Fixture::FragmentedMp4.bytes();
    assert!(matches!(
        strip_location(&mp4, MediaType::Mp4),
        Err(StripError::Unsupported(MediaType::Mp4))
    ));
    assert!(matches!(
        strip_location(b"....ftypheic", MediaType::Heic),
        Err(StripError::Unsupported(MediaType::Heic))
    ));
    let png_as_jpeg = strip_location(&Fixture::Png.bytes(), MediaType::Jpeg).unwrap_err();
    assert!(png_as_jpeg
        .to_string()
        .starts_with("the image/jpeg file is malformed"));
    let jpeg_as_png = strip_location(&Fixture::Jpeg.bytes(), MediaType::Png);
    assert!(matches!(
        jpeg_as_png,
        Err(StripError::Malformed {
            kind: MediaType::Png,
            ..
        })
    ));
    let jpeg_as_webp = strip_location(&Fixture::Jpeg.bytes(), MediaType::Webp);
    assert!(matches!(
        jpeg_as_webp,
        Err(StripError::Malformed {
            kind: MediaType::Webp,
            ..
        })
    ));
}
