use super::*;
use crate::keys::tests::{peter, PETER_VERIFIER_KEY};
use crate::merkle::leaf_hash;

// Known-answer vectors from golang.org/x/mod/sumdb/note's note_test.go.
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const PETER_SIGNATURE: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIGNATURE: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
const ENOCH_VERIFIER_KEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

fn key(verifier_key: &str) -> VerifierKey {
    verifier_key.parse().unwrap()
}

fn note_signed_by(signatures: &[&str]) -> String {
    format!("{GO_TEXT}\n{}", signatures.concat())
}

#[test]
fn signing_matches_go_sumdb_note() {
    assert_eq!(
        sign_note(GO_TEXT, &peter()).unwrap(),
        note_signed_by(&[PETER_SIGNATURE])
    );
}

#[test]
fn opens_go_notes_with_either_signers_key() {
    let note = note_signed_by(&[PETER_SIGNATURE, ENOCH_SIGNATURE]);
    assert_eq!(open_note(&note, &key(PETER_VERIFIER_KEY)), Ok(GO_TEXT));
    assert_eq!(open_note(&note, &key(ENOCH_VERIFIER_KEY)), Ok(GO_TEXT));
    let twice = note_signed_by(&[PETER_SIGNATURE, PETER_SIGNATURE]);
    assert_eq!(open_note(&twice, &key(PETER_VERIFIER_KEY)), Ok(GO_TEXT));
}

#[test]
fn go_note_without_our_signature_is_an_unknown_key() {
    let peter_only = note_signed_by(&[PETER_SIGNATURE]);
    let renamed = note_signed_by(&[&PETER_SIGNATURE.replace("PeterNeumann", "CarmenSandiego")]);
    let other_key_id = note_signed_by(&[&PETER_SIGNATURE.replace("x08g", "xxxx")]);
    assert_eq!(
        open_note(&peter_only, &key(ENOCH_VERIFIER_KEY)),
        Err(CheckpointError::UnknownKey {
            key: "EnochRoot+af0cfe78".into(),
            signers: "PeterNeumann+c74f20a3".into()
        })
    );
    for note in [renamed, other_key_id] {
        assert!(matches!(
            open_note(&note, &key(PETER_VERIFIER_KEY)),
            Err(CheckpointError::UnknownKey { .. })
        ));
    }
}

#[test]
fn corrupted_go_signature_is_a_bad_signature() {
    let corrupted = format!("{}ABCD{}", &PETER_SIGNATURE[..60], &PETER_SIGNATURE[60..]);
    // A good signature by the same key does not excuse a bad one.
    for note in [
        note_signed_by(&[&corrupted]),
        note_signed_by(&[PETER_SIGNATURE, &corrupted]),
    ] {
        let error = open_note(&note, &key(PETER_VERIFIER_KEY)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the tree head's signature does not match the key PeterNeumann+c74f20a3"
        );
    }
}

#[test]
fn malformed_go_notes_are_rejected() {
    let malformed = [
        GO_TEXT.to_owned(),
        format!("{GO_TEXT}\n"),
        format!("{GO_TEXT}\n{}", PETER_SIGNATURE.trim_end_matches('\n')),
        format!("\x01{GO_TEXT}\n{PETER_SIGNATURE}"),
        format!("{GO_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
        format!("{GO_TEXT}\n{PETER_SIGNATURE}Unexpected line.\n"),
        format!("{GO_TEXT}\n{}", PETER_SIGNATURE.repeat(MAX_SIGNATURES + 1)),
        format!("{GO_TEXT}\n— PeterNeumann x08go/Z=\n"),
    ];
    for note in malformed {
        let result = open_note(&note, &key(PETER_VERIFIER_KEY));
        assert!(
            matches!(result, Err(CheckpointError::MalformedNote(_))),
            "{note:?} gave {result:?}"
        );
    }
}

fn sample_checkpoint() -> Checkpoint {
    Checkpoint {
        origin: "chotomoni.example/proofs".into(),
        size: 1234,
        root: leaf_hash(b"sample"),
    }
}

#[test]
fn checkpoint_body_has_the_c2sp_layout() {
    let checkpoint = Checkpoint {
        origin: "example.com/behind-the-sofa".into(),
        size: 20852163,
        root: BASE64
            .decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
            .unwrap()
            .try_into()
            .unwrap(),
    };
    let body =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_eq!(checkpoint.body().unwrap(), body);
    assert_eq!(Checkpoint::parse_body(body).unwrap(), checkpoint);
}

#[test]
fn signed_checkpoint_round_trips() {
    let log_key = SigningKey::generate("chotomoni.example/proofs").unwrap();
    let signed = sign(&sample_checkpoint(), &log_key).unwrap();
    assert!(signed.starts_with(&sample_checkpoint().body().unwrap()));
    assert!(signed.contains("\n\n— chotomoni.example/proofs "));
    assert_eq!(
        open(&signed, &log_key.verifier_key()).unwrap(),
        sample_checkpoint()
    );
}

#[test]
fn witness_cosignatures_are_ignored() {
    let log_key = SigningKey::generate("chotomoni.example/proofs").unwrap();
    let witness = SigningKey::generate("witness.example").unwrap();
    let signed = sign(&sample_checkpoint(), &log_key).unwrap();
    let witness_line = sign_note(&sample_checkpoint().body().unwrap(), &witness).unwrap();
    let witness_line = witness_line.rsplit_once("\n\n").unwrap().1;
    let cosigned = format!("{signed}{witness_line}");
    assert_eq!(
        open(&cosigned, &log_key.verifier_key()).unwrap(),
        sample_checkpoint()
    );
}

#[test]
fn tampered_checkpoints_fail_the_signature() {
    let log_key = SigningKey::generate("chotomoni.example/proofs").unwrap();
    let signed = sign(&sample_checkpoint(), &log_key).unwrap();
    let root = BASE64.encode(sample_checkpoint().root);
    let other_root = BASE64.encode(leaf_hash(b"other"));
    for tampered in [
        signed.replace("\n1234\n", "\n1235\n"),
        signed.replace(&root, &other_root),
        signed.replace("chotomoni.example/proofs\n", "chotomoni.example/proof\n"),
    ] {
        assert!(matches!(
            open(&tampered, &log_key.verifier_key()),
            Err(CheckpointError::BadSignature { .. })
        ));
    }
}

#[test]
fn checkpoint_signed_by_another_key_is_rejected() {
    let log_key = SigningKey::generate("chotomoni.example/proofs").unwrap();
    let impostor = SigningKey::generate("chotomoni.example/proofs").unwrap();
    let forged = sign(&sample_checkpoint(), &impostor).unwrap();
    let error = open(&forged, &log_key.verifier_key()).unwrap_err();
    assert!(
        matches!(error, CheckpointError::UnknownKey { .. }),
        "{error}"
    );
    assert!(error
        .to_string()
        .starts_with("the tree head is not signed by the key chotomoni.example/proofs+"));
}

#[test]
fn non_canonical_checkpoint_bodies_are_rejected() {
    let log_key = SigningKey::generate("log.example").unwrap();
    let root = BASE64.encode(leaf_hash(b"x"));
    let short_root = BASE64.encode(&leaf_hash(b"x")[..31]);
    for body in [
        format!("log.example\n5\n{root}\nextension\n"),
        format!("log.example\n05\n{root}\n"),
        format!("log.example\n+5\n{root}\n"),
        format!("log.example\n-5\n{root}\n"),
        format!("log.example\n\n{root}\n"),
        format!("log.example\n18446744073709551616\n{root}\n"),
        format!("log.example\n5\n{short_root}\n"),
        format!("\n5\n{root}\n"),
        "log.example\n5\n".to_owned(),
    ] {
        let signed = sign_note(&body, &log_key).unwrap();
        let result = open(&signed, &log_key.verifier_key());
        assert!(
            matches!(result, Err(CheckpointError::MalformedCheckpoint(_))),
            "{body:?} gave {result:?}"
        );
    }
    assert_eq!(
        Checkpoint::parse_body(&format!("log.example\n0\n{root}\n"))
            .unwrap()
            .size,
        0
    );
}

#[test]
fn invalid_inputs_to_signing_are_rejected() {
    let log_key = SigningKey::generate("log.example").unwrap();
    let mut checkpoint = sample_checkpoint();
    checkpoint.origin = "two\nlines".into();
    assert_eq!(
        sign(&checkpoint, &log_key),
        Err(CheckpointError::InvalidOrigin("two\nlines".into()))
    );
    assert_eq!(
        sign_note("no newline", &log_key),
        Err(CheckpointError::InvalidNoteText)
    );
    assert_eq!(
        sign_note("tab\there\n", &log_key),
        Err(CheckpointError::InvalidNoteText)
    );
    assert!(matches!(
        open("x\n\n— a b\n", "not a key"),
        Err(CheckpointError::Key(KeyError::MalformedVerifierKey(_)))
    ));
}
