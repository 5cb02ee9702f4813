//! The baselines: the same rows the export and the erasure touch, read with
//! plain SELECTs in the same run, nothing opened.
use super::*;

/// What the export reads about the customer, as plain SELECTs over one
/// connection: the customer with their key and indexes, orders with items
/// and events, sessions, cookie choices, consents, policy acceptances,
/// disclosures, proofs and unfinished uploads. Nothing is opened.
pub async fn export_baseline(db: &Db, id: i64) -> Duration {
    const QUERIES: &[&str] = &[
        "SELECT c.id, c.name_enc, c.phone_enc, c.email_enc, c.password_hash, c.created_at, \
         c.erased_at, k.wrapped_key FROM customers c LEFT JOIN customer_keys k \
         ON k.customer_id = c.id WHERE c.id = $1",
        "SELECT wrapped_key FROM customer_keys WHERE customer_id = $1",
        "SELECT phone_index, email_index FROM customers WHERE id = $1",
        "SELECT id, status, payment_method, payment_status, source, total, address_enc, \
         instructions_enc, created_at, updated_at FROM orders WHERE customer_id = $1 ORDER BY id",
        "SELECT i.order_id, i.line_no, i.sku, i.name, i.quantity, i.unit_price \
         FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.customer_id = $1 ORDER BY i.order_id, i.line_no",
        "SELECT e.order_id, e.from_status, e.to_status, e.staff_id, e.at \
         FROM order_events e JOIN orders o ON o.id = e.order_id \
         WHERE o.customer_id = $1 ORDER BY e.order_id, e.id",
        "SELECT kind, lang, cart, ip_address, user_agent, device_kind, created_at, last_seen_at, \
         expires_at FROM sessions WHERE customer_id = $1 ORDER BY created_at",
        "SELECT id, functional, analytics, policy_version, at FROM cookie_choices \
         WHERE customer_id = $1 ORDER BY at",
        "SELECT purpose, granted, channel, policy_version, wording, at FROM consents \
         WHERE customer_id = $1 ORDER BY id",
        "SELECT version, channel, at FROM policy_acceptances WHERE customer_id = $1 ORDER BY id",
        "SELECT order_id, recipient, fields, purpose, at FROM disclosures \
         WHERE customer_id = $1 ORDER BY id",
        "SELECT id, order_id, customer_id, kind, media_type, size, sha256, blob_key, \
         stored_size, poster_key, proof_key_enc, file_name_enc, uploader, captured_at, \
         received_at, duration_ms, width, height, has_audio, probed_at, probe_error, log_index, \
         leaf FROM proofs WHERE customer_id = $1 ORDER BY order_id, id",
        "SELECT id, order_id, kind, length, upload_offset, media_type, file_name_enc, \
         captured_at, created_at, expires_at FROM uploads WHERE customer_id = $1 \
         ORDER BY created_at",
    ];
    let mut conn = db.conn().await.expect("connection");
    let started = Instant::now();
    let mut rows = 0;
    for q in QUERIES {
        rows += sqlx::query(q)
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .expect("baseline query")
            .len();
    }
    let time = started.elapsed();
    assert!(
        rows > HEAVY_ORDERS * 4,
        "the baseline read the customer's rows ({rows})"
    );
    time
}

/// What an erasure reads and touches, as plain SELECTs over one connection:
/// the journal, the customer with their key and indexes, their orders (the
/// status check, then the rows it pseudonymises), exports, proofs, legal
/// holds, uploads, the rows deleted with them, codes sent to their number
/// and sign-in fingerprints (three made-up ones: finding them needs the
/// number opened).
pub async fn erasure_baseline(db: &Db, id: i64) -> Duration {
    let by_customer: &[&str] = &[
        "SELECT customer_id, request_id, erased_at, held_proofs FROM erasures WHERE customer_id = $1",
        "SELECT id FROM orders WHERE customer_id = $1 AND status = 'handed_to_courier' ORDER BY id",
        "SELECT id, customer_id, request_id, status, progress, stage, blob_key, file_key_enc, \
         token_hash, size, stored_size, created_at, updated_at, ready_at, expires_at, error \
         FROM exports WHERE customer_id = $1 ORDER BY id DESC",
        "SELECT c.id, c.name_enc, c.phone_enc, c.email_enc, c.password_hash, c.created_at, \
         c.erased_at, k.wrapped_key FROM customers c LEFT JOIN customer_keys k \
         ON k.customer_id = c.id WHERE c.id = $1",
        "SELECT phone_index, email_index FROM customers WHERE id = $1",
        "SELECT id, order_id, blob_key, poster_key, proof_key_enc FROM proofs \
         WHERE customer_id = $1 ORDER BY id",
        "SELECT h.id, h.order_id, h.reason, h.note, h.placed_at, h.until_at, h.released_at \
         FROM legal_holds h JOIN orders o ON o.id = h.order_id WHERE o.customer_id = $1 \
         AND h.released_at IS NULL ORDER BY h.id",
        "SELECT id FROM uploads WHERE customer_id = $1",
        "SELECT * FROM sessions WHERE customer_id = $1",
        "SELECT * FROM consents WHERE customer_id = $1",
        "SELECT * FROM policy_acceptances WHERE customer_id = $1",
        "SELECT * FROM cookie_choices WHERE customer_id = $1",
        "SELECT * FROM disclosures WHERE customer_id = $1",
        "SELECT id, customer_id, address_enc, instructions_enc FROM orders WHERE customer_id = $1",
        "SELECT customer_id, wrapped_key FROM customer_keys WHERE customer_id = $1",
    ];
    let mut conn = db.conn().await.expect("connection");
    let started = Instant::now();
    let mut indexes: Vec<Vec<u8>> = Vec::new();
    for q in by_customer {
        let rows = sqlx::query(q)
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .expect("baseline query");
        if q.starts_with("SELECT phone_index") {
            use sqlx::Row;
            for r in &rows {
                indexes.extend(r.try_get::<Option<Vec<u8>>, _>(0).ok().flatten());
                indexes.extend(r.try_get::<Option<Vec<u8>>, _>(1).ok().flatten());
            }
        }
    }
    for index in &indexes {
        for q in [
            "SELECT * FROM phone_verifications WHERE phone_index = $1",
            "SELECT * FROM request_codes WHERE address_index = $1",
        ] {
            sqlx::query(q)
                .bind(index.clone())
                .fetch_all(&mut *conn)
                .await
                .expect("baseline query");
        }
    }
    for n in 0..3 {
        sqlx::query("SELECT * FROM sign_in_attempts WHERE key_hash = $1")
            .bind(format!("{:064x}", id * 10 + n))
            .fetch_all(&mut *conn)
            .await
            .expect("baseline query");
    }
    started.elapsed()
}
