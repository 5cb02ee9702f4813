mod common;

use chotomoni_media::{extension, sniff, MediaType, SNIFF_LEN};
use common::Fixture;

fn sniff_fixture(fixture: Fixture) -> Option<MediaType> {
    let bytes = fixture.bytes();
    sniff(&bytes[..SNIFF_LEN.min(bytes.len())])
}

#[test]
fn files_made_by_ffmpeg_are_recognised() {
    let expected = [
        (Fixture::Jpeg, MediaType::Jpeg),
        (Fixture::Png, MediaType::Png),
        (Fixture::Webp, MediaType::Webp),
        (Fixture::FragmentedMp4, MediaType::Mp4),
        (Fixture::MoovAtEndMp4, MediaType::Mp4),
        (Fixture::QuickTime, MediaType::QuickTime),
        (Fixture::LiveWebm, MediaType::Webm),
    ];
    for (fixture, kind) in expected {
        assert_eq!(sniff_fixture(fixture), Some(kind), "{fixture:?}");
    }
    assert_eq!(extension(MediaType::Mp4), "mp4");
}

#[test]
fn matroska_that_is_not_webm_is_refused() {
    assert_eq!(sniff_fixture(Fixture::Matroska), None);
}

#[test]
fn only_the_first_bytes_matter() {
    let mut renamed_text = b"%PDF-1.4 pretending to be photo.jpg".to_vec();
    renamed_text.extend(Fixture::Jpeg.bytes());
    assert_eq!(sniff(&renamed_text), None);
    assert_eq!(sniff(&Fixture::Jpeg.bytes()[..3]), Some(MediaType::Jpeg));
}
