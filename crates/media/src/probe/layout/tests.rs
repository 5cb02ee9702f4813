//! Layouts built by hand, fed whole and a byte at a time, since the
//! reader hands the scanner pieces of any size.
use super::Scanner;

fn duration_ms(file: &[u8]) -> Option<u64> {
    let mut whole = Scanner::default();
    whole.push(file);
    let mut bytewise = Scanner::default();
    for byte in file {
        bytewise.push(std::slice::from_ref(byte));
    }
    assert_eq!(whole.duration_ms(), bytewise.duration_ms());
    whole.duration_ms()
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

fn full_box(kind: &[u8; 4], version: u8, flags: u32, fields: &[u32]) -> Vec<u8> {
    let mut body = (u32::from(version) << 24 | flags).to_be_bytes().to_vec();
    for field in fields {
        body.extend_from_slice(&field.to_be_bytes());
    }
    mp4_box(kind, &body)
}

fn track(id: u32, timescale: u32) -> Vec<u8> {
    let tkhd = full_box(b"tkhd", 0, 3, &[0, 0, id, 0, 0]);
    let mdhd = full_box(b"mdhd", 0, 0, &[0, 0, timescale, 0, 0]);
    mp4_box(b"trak", &[tkhd, mp4_box(b"mdia", &mdhd)].concat())
}

fn fragment(trafs: &[Vec<u8>]) -> Vec<u8> {
    let trafs: Vec<u8> = trafs.iter().flat_map(|t| mp4_box(b"traf", t)).collect();
    // The media data that follows is skipped, however large.
    [mp4_box(b"moof", &trafs), mp4_box(b"mdat", &[0xAB; 3000])].concat()
}

#[test]
fn fragmented_mp4_ends_with_its_last_fragment() {
    let moov = [
        track(1, 1000),
        track(2, 48000),
        mp4_box(b"mvex", &full_box(b"trex", 0, 0, &[2, 1, 960, 0, 0])),
    ]
    .concat();
    let video_run = |samples: u32| full_box(b"trun", 0, 0x201, &[samples, 0]);
    let file = [
        mp4_box(b"ftyp", b"iso6mp41"),
        mp4_box(b"moov", &moov),
        // Video: 40 ms frames from tfhd, 2 s with a 64-bit tfdt.
        fragment(&[[
            full_box(b"tfhd", 0, 0x08, &[1, 40]),
            full_box(b"tfdt", 1, 0, &[0, 0]),
            video_run(50),
        ]
        .concat()]),
        // Audio: trex's 20 ms packets then their own durations, 3.02 s;
        // video carries on from where it was without a tfdt, to 3 s.
        fragment(&[
            [
                full_box(b"tfhd", 0, 0, &[2]),
                full_box(b"tfdt", 0, 0, &[0]),
                full_box(b"trun", 0, 0, &[100]),
                full_box(b"trun", 0, 0x300, &[2, 1920, 7, 47_040, 7]),
            ]
            .concat(),
            [full_box(b"tfhd", 0, 0x08, &[1, 40]), video_run(25)].concat(),
        ]),
    ]
    .concat();
    assert_eq!(duration_ms(&file), Some(3020));
}

#[test]
fn plain_mp4_and_other_media_are_left_to_ffprobe() {
    let plain = [mp4_box(b"ftyp", b"isom"), mp4_box(b"moov", &track(1, 600))].concat();
    assert_eq!(duration_ms(&plain), None);
    assert_eq!(duration_ms(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"), None);
}

#[test]
fn a_layout_that_stops_making_sense_gives_no_answer() {
    let fragment = fragment(&[[
        full_box(b"tfhd", 0, 0x08, &[1, 40]),
        full_box(b"trun", 0, 0, &[50]),
    ]
    .concat()]);
    let mut file = [mp4_box(b"ftyp", b"isom"), track(1, 1000), fragment].concat();
    assert_eq!(duration_ms(&file), Some(2000));
    file.extend_from_slice(&[0, 0, 0, 3, b'b', b'a', b'd', b'!']);
    assert_eq!(duration_ms(&file), None);
}

fn ebml(id: &[u8], body: &[u8]) -> Vec<u8> {
    // An 8-byte size, as MediaRecorder writes some of them.
    let mut e = id.to_vec();
    e.push(0x01);
    e.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
    e.extend_from_slice(body);
    e
}

fn unknown_size(id: &[u8]) -> Vec<u8> {
    [id, &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]].concat()
}

fn block(id: u8, relative: i16, frame_bytes: usize) -> Vec<u8> {
    let body = [
        &[0x81][..],
        &relative.to_be_bytes(),
        &[0x80],
        &vec![0; frame_bytes],
    ]
    .concat();
    ebml(&[id], &body)
}

#[test]
fn live_webm_ends_with_its_last_block() {
    let simple_block = |relative, bytes| block(0xA3, relative, bytes);
    let file = [
        ebml(&[0x1A, 0x45, 0xDF, 0xA3], &ebml(&[0x42, 0x82], b"webm")),
        unknown_size(&[0x18, 0x53, 0x80, 0x67]),
        // Microseconds, so a tick is not a millisecond here.
        ebml(
            &[0x15, 0x49, 0xA9, 0x66],
            &ebml(&[0x2A, 0xD7, 0xB1], &[0x03, 0xE8]),
        ),
        ebml(&[0x16, 0x54, 0xAE, 0x6B], &[0xEC; 40]),
        unknown_size(&[0x1F, 0x43, 0xB6, 0x75]),
        ebml(&[0xE7], &[0]),
        simple_block(0, 5000),
        simple_block(30_000, 2000),
        unknown_size(&[0x1F, 0x43, 0xB6, 0x75]),
        ebml(&[0xE7], &1_000_000u32.to_be_bytes()),
        simple_block(-1000, 10),
        ebml(
            &[0xA0],
            &[block(0xA1, 20_000, 300), ebml(&[0x9B], &[0x4E, 0x20])].concat(),
        ),
    ]
    .concat();
    // The block group's block starts at 1.02 s and lasts 20 ms.
    assert_eq!(duration_ms(&file), Some(1040));
}
