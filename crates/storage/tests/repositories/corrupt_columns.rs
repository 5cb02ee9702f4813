//! The columns typed last (disclosures, one-time codes, export stages,
//! languages, policy acceptances, how a request was verified): a stored value
//! that is not one of its enum's fails where it is read, on both engines,
//! instead of being shown as is or taken for some default.
use super::corrupt_rows::write_unchecked;
use super::{customer, open, open_request, plain_session};
use chotomoni_domain::catalog::{Lang, Purpose, Recipient};
use chotomoni_domain::policy::Acceptance;
use chotomoni_domain::{ExportStage, RequestKind, VerifiedBy};
use chotomoni_storage::disclosures::{self, DisclosureRow};
use chotomoni_storage::sessions;
use chotomoni_storage::{exports, policies, privacy_requests as requests, StorageError};
use chotomoni_testkit::{both_engines, Engine};

/// The error names the table, the column and the value it holds.
fn names(err: StorageError, column: &str, value: &str) {
    let err = err.to_string();
    assert!(err.contains(column) && err.contains(value), "{err}");
}

/// Disclosures are never updated (a trigger refuses it): the bad values
/// are written as new rows, one customer each.
async fn corrupt_disclosures(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let good = customer(&db, b"idx-disc").await;
    let row = DisclosureRow {
        order_id: None,
        recipient: Recipient::Courier,
        fields: "orders.address_enc".into(),
        purpose: Purpose::Fulfilment,
        at: 1_000,
    };
    disclosures::append(&mut c, good, &row).await.unwrap();
    assert_eq!(
        disclosures::for_customer(&mut c, good).await.unwrap(),
        vec![row]
    );

    let bad_purpose = customer(&db, b"idx-disc-p").await;
    sqlx::query(
        "INSERT INTO disclosures (customer_id, recipient, fields, purpose, at) \
         VALUES ($1, 'courier', 'orders.address_enc', 'advertising', 1)",
    )
    .bind(bad_purpose)
    .execute(&mut *c)
    .await
    .unwrap();
    names(
        disclosures::for_customer(&mut c, bad_purpose)
            .await
            .unwrap_err(),
        "disclosures.purpose",
        "advertising",
    );

    let bad_recipient = customer(&db, b"idx-disc-r").await;
    write_unchecked(
        &mut c,
        engine,
        "disclosures",
        "disclosures_recipient_check",
        "INSERT INTO disclosures (customer_id, recipient, fields, purpose, at) \
         VALUES ($1, 'broker', 'orders.address_enc', 'fulfilment', 1)",
        bad_recipient,
    )
    .await;
    names(
        disclosures::for_customer(&mut c, bad_recipient)
            .await
            .unwrap_err(),
        "disclosures.recipient",
        "broker",
    );
}
both_engines!(
    a_corrupt_disclosure_fails_where_it_is_read,
    super::corrupt_disclosures
);

/// A code whose stored kind is not one fails when the address's codes are
/// read, whichever kind is asked for: it is not passed over as another
/// kind's code.
async fn corrupt_request_code_kind(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let address = b"addr-1";
    requests::insert_code(&mut c, address, RequestKind::Access, b"hash", 1_000, 2_000)
        .await
        .unwrap();
    let code = requests::latest_code(&mut c, address, RequestKind::Access)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.kind, RequestKind::Access);
    assert!(requests::latest_code(&mut c, address, RequestKind::Erasure)
        .await
        .unwrap()
        .is_none());
    write_unchecked(
        &mut c,
        engine,
        "request_codes",
        "request_codes_kind_check",
        "UPDATE request_codes SET kind = 'export' WHERE id = $1",
        code.id,
    )
    .await;
    for kind in [RequestKind::Access, RequestKind::Erasure] {
        names(
            requests::latest_code(&mut c, address, kind)
                .await
                .unwrap_err(),
            "request_codes.kind",
            "export",
        );
    }
}
both_engines!(
    a_corrupt_request_code_kind_fails_where_it_is_read,
    super::corrupt_request_code_kind
);

/// An export whose stored stage is not one fails where it is read, instead
/// of being shown to its requester as is.
async fn corrupt_export_stage(engine: Engine) {
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-exp").await;
    let mut c = db.conn().await.unwrap();
    let id = exports::insert(&mut c, cust, None, "system", ExportStage::Queued, 1_000)
        .await
        .unwrap();
    exports::set_progress(&mut c, id, 8, ExportStage::CopyingProofs, 1_001)
        .await
        .unwrap();
    let row = exports::get(&mut c, id).await.unwrap().unwrap();
    assert_eq!((row.progress, row.stage), (8, ExportStage::CopyingProofs));
    sqlx::query("UPDATE exports SET stage = 'zipping' WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .unwrap();
    names(
        exports::get(&mut c, id).await.unwrap_err(),
        "exports.stage",
        "zipping",
    );
    names(
        exports::for_customer(&mut c, cust).await.unwrap_err(),
        "exports.stage",
        "zipping",
    );
}
both_engines!(
    a_corrupt_export_stage_fails_where_it_is_read,
    super::corrupt_export_stage
);

/// A session whose stored language is not one fails where it is read, on
/// the session lookup and in the access export, instead of being shown in
/// the default language.
async fn corrupt_session_lang(engine: Engine) {
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-lang").await;
    let mut c = db.conn().await.unwrap();
    plain_session(&mut c, "t-lang", None, Some(cust)).await;
    let s = sessions::get(&mut c, "t-lang", 200).await.unwrap().unwrap();
    assert_eq!(s.lang, Lang::En);
    assert_eq!(
        exports::sessions(&mut c, cust).await.unwrap()[0].lang,
        Lang::En
    );
    sqlx::query("UPDATE sessions SET lang = 'fr' WHERE token_hash = $1")
        .bind("t-lang")
        .execute(&mut *c)
        .await
        .unwrap();
    names(
        sessions::get(&mut c, "t-lang", 200).await.unwrap_err(),
        "sessions.lang",
        "fr",
    );
    names(
        exports::sessions(&mut c, cust).await.unwrap_err(),
        "sessions.lang",
        "fr",
    );
}
both_engines!(
    a_corrupt_session_lang_fails_where_it_is_read,
    super::corrupt_session_lang
);

/// A policy acceptance whose stored channel is not one fails where it is
/// read, instead of being put in the customer's export as is.
async fn corrupt_acceptance_channel(engine: Engine) {
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-acc").await;
    let mut c = db.conn().await.unwrap();
    policies::insert(
        &mut c,
        &policies::PolicyRow {
            version: 1,
            text_bn: "bn".into(),
            text_en: "en".into(),
            published_at: 1,
            published_by: None,
        },
    )
    .await
    .unwrap();
    policies::accept(&mut c, cust, 1, Acceptance::Notice, 1_000)
        .await
        .unwrap();
    let accepted = policies::acceptances(&mut c, cust).await.unwrap();
    assert_eq!(accepted[0].channel, Acceptance::Notice);
    write_unchecked(
        &mut c,
        engine,
        "policy_acceptances",
        "policy_acceptances_channel_check",
        "UPDATE policy_acceptances SET channel = 'email' WHERE customer_id = $1",
        cust,
    )
    .await;
    names(
        policies::acceptances(&mut c, cust).await.unwrap_err(),
        "policy_acceptances.channel",
        "email",
    );
}
both_engines!(
    a_corrupt_acceptance_channel_fails_where_it_is_read,
    super::corrupt_acceptance_channel
);

/// How a request was verified, when the stored value is not a way, fails
/// where the request is read instead of being shown as is.
async fn corrupt_verified_by(engine: Engine) {
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-ver").await;
    let mut c = db.conn().await.unwrap();
    let id = open_request(&mut c, cust).await;
    let row = requests::get(&mut c, id).await.unwrap().unwrap();
    assert_eq!(row.verified_by, Some(VerifiedBy::SignedIn));
    sqlx::query("UPDATE privacy_requests SET verified_by = 'trusted' WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .unwrap();
    names(
        requests::get(&mut c, id).await.unwrap_err(),
        "privacy_requests.verified_by",
        "trusted",
    );
}
both_engines!(
    a_corrupt_verified_by_fails_where_it_is_read,
    super::corrupt_verified_by
);
