//! Gathering everything kept about one customer into [`ExportData`], the
//! machine-readable half of an access export (`data.json`), in a fixed
//! number of queries whatever the number of orders or proofs. Which catalog
//! fields each section carries is declared in [`super::sections`].
pub use super::data::{
    Acceptance, Address, AddressUse, ClientFingerprints, Consent, CookieChoice, Disclosure, Event,
    ExportData, Item, Order, Parcel, Payment, PaymentAttempt, PhoneCheck, Profile, Proof, Session,
    Technical, Upload, FORMAT,
};
use super::sections::{field_label, section_docs, withheld};
use crate::error::{Result, ServiceError};
use crate::orders::millis_to_rfc3339;
use crate::vault::{open_delivery, open_text, Delivery};
use crate::Services;
use chotomoni_crypto::SealKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{OrderId, OrderNumber};
use chotomoni_storage::customers::CustomerRow;
use chotomoni_storage::proofs::ProofRow;
use chotomoni_storage::{consents, disclosures, exports as repo, policies, Conn};
use std::collections::HashMap;

/// What the ZIP builder needs besides the data: the proof rows to copy.
pub(crate) struct Collected {
    pub data: ExportData,
    pub proof_rows: Vec<ProofRow>,
}

fn when(ms: i64) -> String {
    millis_to_rfc3339(ms)
}

fn number(order_id: i64) -> String {
    OrderNumber::from_id(OrderId(order_id)).to_string()
}

fn address(d: Delivery) -> Address {
    Address {
        recipient: d.recipient,
        line: d.line,
        area: d.area,
        district: d.district,
    }
}

impl Services {
    /// Reads and opens everything kept about the customer. `conn` is used
    /// for a fixed number of queries; sealed fields open under `ckey`.
    pub(crate) async fn collect_export(
        &self,
        conn: &mut Conn,
        customer: &CustomerRow,
        ckey: &SealKey,
        export_id: i64,
        request_id: Option<i64>,
    ) -> Result<Collected> {
        let id = customer.id;
        let contact = crate::customers::open_contact(
            ckey,
            id,
            customer.name_enc.as_deref(),
            customer.phone_enc.as_deref(),
            customer.email_enc.as_deref(),
        )?;
        let (phone_index, email_index) = repo::customer_indexes(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        let profile = Profile {
            customer_number: id,
            name: contact.name,
            phone: contact.phone,
            email: contact.email,
            phone_fingerprint: phone_index.map(hex::encode),
            email_fingerprint: email_index.map(hex::encode),
            has_password: customer.password_hash.is_some(),
            customer_since: when(customer.created_at),
            phone_proven_at: customer.phone_verified_at.map(when),
            email_proven_at: customer.email_verified_at.map(when),
        };

        let order_rows = repo::orders(conn, id).await?;
        let mut items: HashMap<i64, Vec<Item>> = HashMap::new();
        for i in repo::order_items(conn, id).await? {
            items.entry(i.order_id).or_default().push(Item {
                name: i.name,
                sku: i.sku,
                quantity: i.quantity,
                unit_price: i.unit_price,
            });
        }
        let mut events: HashMap<i64, Vec<Event>> = HashMap::new();
        for e in repo::order_events(conn, id).await? {
            events.entry(e.order_id).or_default().push(Event {
                from: e.from_status.map(|s| s.as_str().to_owned()),
                to: e.to_status.as_str().to_owned(),
                at: when(e.at),
                by: e.staff_id.map(|s| format!("staff:{s}")),
            });
        }
        let order_ids: Vec<i64> = order_rows.iter().map(|o| o.id).collect();
        let mut extras = super::order_extras::read(conn, id, &order_ids, when).await?;
        let mut orders = Vec::with_capacity(order_rows.len());
        let mut addresses: Vec<AddressUse> = vec![];
        for o in order_rows {
            let number = number(o.id);
            let delivery = open_delivery(ckey, o.id, o.address_enc.as_deref())?.map(address);
            if let Some(a) = &delivery {
                match addresses.iter_mut().find(|u| &u.address == a) {
                    Some(u) => u.orders.push(number.clone()),
                    None => addresses.push(AddressUse {
                        address: a.clone(),
                        orders: vec![number.clone()],
                    }),
                }
            }
            orders.push(Order {
                created_at: when(o.created_at),
                updated_at: when(o.updated_at),
                status: o.status.as_str().to_owned(),
                source: o.source.as_str().to_owned(),
                payment_method: o.payment_method.as_str().to_owned(),
                payment_status: o.payment_status.as_str().to_owned(),
                total: o.total,
                items: items.remove(&o.id).unwrap_or_default(),
                address: delivery,
                delivery_instructions: open_text(
                    ckey,
                    sealed::ORDER_INSTRUCTIONS,
                    o.id,
                    o.instructions_enc.as_deref(),
                )?,
                history: events.remove(&o.id).unwrap_or_default(),
                unconfirmed: o.unconfirmed != 0,
                marketing_opt_in_pending: o.marketing_opt_in != 0,
                lang: o.lang.code().to_owned(),
                parcel: extras.parcels.remove(&o.id),
                phone_checks: extras.checks.remove(&o.id).unwrap_or_default(),
                placed_from: extras.clients.remove(&o.id),
                number,
            });
        }
        let payments = orders
            .iter()
            .map(|o| Payment {
                order: o.number.clone(),
                method: o.payment_method.clone(),
                status: o.payment_status.clone(),
                total: o.total,
                attempts: extras.payments.remove(&o.number).unwrap_or_default(),
            })
            .collect();

        let technical = Technical {
            retention_days: self.settings.technical_retention_days,
            sessions: repo::sessions(conn, id)
                .await?
                .into_iter()
                .map(|s| Session {
                    kind: s.kind.as_str().to_owned(),
                    started_at: when(s.created_at),
                    last_seen_at: when(s.last_seen_at),
                    expires_at: when(s.expires_at),
                    ip_address: s.ip_address,
                    user_agent: s.user_agent,
                    device_kind: s.device_kind,
                    language: s.lang.code().to_owned(),
                    cart: serde_json::from_str(&s.cart)
                        .unwrap_or(serde_json::Value::String(s.cart)),
                })
                .collect(),
            cookie_choices: repo::cookie_choices(conn, id)
                .await?
                .into_iter()
                .map(|c| CookieChoice {
                    id: c.id,
                    functional: c.functional != 0,
                    analytics: c.analytics != 0,
                    policy_version: c.policy_version,
                    at: when(c.at),
                })
                .collect(),
        };

        let consents = consents::for_customer(conn, id)
            .await?
            .into_iter()
            .map(|c| Consent {
                purpose: c.purpose.as_str().to_owned(),
                granted: c.granted != 0,
                channel: c.channel.as_str().to_owned(),
                policy_version: c.policy_version,
                wording: c.wording,
                at: when(c.at),
            })
            .collect();
        let policy_acceptances = policies::acceptances(conn, id)
            .await?
            .into_iter()
            .map(|a| Acceptance {
                version: a.version,
                channel: a.channel.as_str().to_owned(),
                at: when(a.at),
            })
            .collect();
        let mut claims = Vec::new();
        for c in chotomoni_storage::claims::of_customer(conn, id).await? {
            claims.push(self.claim_view(conn, c, self.now_ms()).await?);
        }
        let disclosures = disclosures::for_customer(conn, id)
            .await?
            .into_iter()
            .map(|d| Disclosure {
                order: d.order_id.map(number),
                recipient: d.recipient.as_str().to_owned(),
                recipient_en: d.recipient.label(Lang::En).to_owned(),
                recipient_bn: d.recipient.label(Lang::Bn).to_owned(),
                fields: d
                    .fields
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(field_label)
                    .collect(),
                purpose: d.purpose.as_str().to_owned(),
                at: when(d.at),
            })
            .collect();

        let proof_rows = repo::proofs(conn, id).await?;
        let mut proofs = Vec::with_capacity(proof_rows.len());
        for p in &proof_rows {
            let file_name = match p.file_name_enc.as_deref() {
                Some(sealed) => Some(
                    ckey.open_string(&sealed::PROOF_FILE_NAME.at(&p.blob_key), sealed)
                        .map_err(|_| ServiceError::Sealed)?,
                ),
                None => None,
            };
            proofs.push(Proof {
                id: p.id,
                order: number(p.order_id),
                kind: p.kind.as_str().to_owned(),
                media_type: p.media_type.clone(),
                size: p.size,
                sha256: p.sha256.clone(),
                file_name,
                captured_at: p.captured_at.map(when),
                received_at: when(p.received_at),
                uploader: p.uploader.clone(),
                duration_ms: p.duration_ms,
                width: p.width,
                height: p.height,
                has_audio: p.has_audio.map(|a| a != 0),
                log_index: p.log_index,
                file: None,
                poster: None,
                receipt: None,
                note: None,
            });
        }
        let unfinished_uploads = repo::uploads(conn, id)
            .await?
            .into_iter()
            .map(|u| {
                let file_name = u
                    .file_name_enc
                    .as_deref()
                    .map(|s| {
                        ckey.open_string(&sealed::UPLOAD_FILE_NAME.at(&u.id), s)
                            .map_err(|_| ServiceError::Sealed)
                    })
                    .transpose()?;
                Ok(Upload {
                    order: number(u.order_id),
                    kind: u.kind.as_str().to_owned(),
                    media_type: u.media_type,
                    file_name,
                    captured_at: u.captured_at.map(when),
                    bytes_received: u.upload_offset,
                    length: u.length,
                    started_at: when(u.created_at),
                    expires_at: when(u.expires_at),
                })
            })
            .collect::<Result<Vec<_>>>()?;

        Ok(Collected {
            data: ExportData {
                format: FORMAT.into(),
                generated_at: when(self.now_ms()),
                export_id,
                request_id,
                sections: section_docs(&self.settings.periods()),
                profile,
                addresses,
                orders,
                payments,
                technical,
                consents,
                policy_acceptances,
                disclosures,
                claims,
                proofs,
                unfinished_uploads,
                withheld: withheld(),
            },
            proof_rows,
        })
    }
}
