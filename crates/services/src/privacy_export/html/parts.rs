//! One function per section of the page, in the order it shows them.
use super::super::collect::ExportData;
use super::markup::*;
use chotomoni_domain::order::format_taka;
use std::fmt::Write;

pub(super) fn profile(out: &mut String, d: &ExportData) {
    let p = &d.profile;
    dl(
        out,
        &[
            (
                ("গ্রাহক নম্বর", "Customer number"),
                esc(&p.customer_number.to_string()),
            ),
            (("নাম", "Name"), esc(&p.name)),
            (("ফোন নম্বর", "Phone number"), esc(&p.phone)),
            (("ইমেইল", "Email"), opt(&p.email)),
            (
                (
                    "ফোন নম্বরের চাবিযুক্ত ছাপ",
                    "Keyed fingerprint of the phone number",
                ),
                format!("<code>{}</code>", opt(&p.phone_fingerprint)),
            ),
            (
                ("ইমেইলের চাবিযুক্ত ছাপ", "Keyed fingerprint of the email"),
                format!("<code>{}</code>", opt(&p.email_fingerprint)),
            ),
            (
                ("অ্যাকাউন্টের পাসওয়ার্ড আছে", "Account password set"),
                yes(p.has_password),
            ),
            (
                ("প্রথম অর্ডার বা রেজিস্ট্রেশন", "First order or registration"),
                esc(&local(&p.customer_since)),
            ),
            (
                ("ফোন নম্বর প্রমাণিত (কোড)", "Phone number proven (a code)"),
                p.phone_proven_at
                    .as_deref()
                    .map(|t| esc(&local(t)))
                    .unwrap_or_else(|| "—".into()),
            ),
            (
                ("ইমেইল প্রমাণিত (লিংক)", "Email proven (a link)"),
                p.email_proven_at
                    .as_deref()
                    .map(|t| esc(&local(t)))
                    .unwrap_or_else(|| "—".into()),
            ),
        ],
    );
}

pub(super) fn address_text(a: &super::super::collect::Address) -> String {
    format!(
        "{}<br>{}, {}, {}",
        esc(&a.recipient),
        esc(&a.line),
        esc(&a.area),
        esc(&a.district)
    )
}

pub(super) fn addresses(out: &mut String, d: &ExportData) {
    table(
        out,
        &d.addresses,
        &[("ঠিকানা", "Address"), ("অর্ডার", "Orders")],
        |a| vec![address_text(&a.address), esc(&a.orders.join(", "))],
    );
}

pub(super) fn orders(out: &mut String, d: &ExportData) {
    if d.orders.is_empty() {
        return none(out);
    }
    for o in &d.orders {
        let _ = write!(
            out,
            "<article id=\"order-{0}\"><h3>{0}</h3>",
            esc(&o.number)
        );
        dl(
            out,
            &[
                (("অর্ডারের তারিখ", "Order date"), esc(&local(&o.created_at))),
                (("অবস্থা", "Status"), value("status", &o.status)),
                (
                    ("কীভাবে এসেছে", "How it reached us"),
                    value("source", &o.source),
                ),
                (
                    ("পেমেন্ট", "Payment"),
                    format!(
                        "{}; {}",
                        value("method", &o.payment_method),
                        value("payment", &o.payment_status)
                    ),
                ),
                (("মোট", "Total"), esc(&format_taka(o.total))),
                (
                    ("ডেলিভারি ঠিকানা", "Delivery address"),
                    o.address
                        .as_ref()
                        .map(address_text)
                        .unwrap_or_else(|| "—".into()),
                ),
                (
                    ("ডেলিভারি নির্দেশনা", "Delivery instructions"),
                    opt(&o.delivery_instructions),
                ),
                (("ভাষা", "Language"), esc(&o.lang)),
                (
                    ("কুরিয়ার ও পার্সেল", "Courier and parcel"),
                    o.parcel
                        .as_ref()
                        .map(parcel_text)
                        .unwrap_or_else(|| "—".into()),
                ),
                (
                    (
                        "সাইন ইন ছাড়া, এখনো নিশ্চিত নয়",
                        "Placed without signing in, not yet confirmed",
                    ),
                    yes(o.unconfirmed),
                ),
                (
                    (
                        "চেকআউটে মার্কেটিং চাওয়া হয়েছে (সম্মতি নয়)",
                        "Marketing asked for at checkout (not a consent)",
                    ),
                    yes(o.marketing_opt_in_pending),
                ),
            ],
        );
        out.push_str("<table>");
        out.push_str(&head(&[
            ("পণ্য", "Item"),
            ("পরিমাণ", "Quantity"),
            ("দাম", "Price"),
        ]));
        for i in &o.items {
            out.push_str(&row(&[
                esc(&i.name),
                esc(&i.quantity.to_string()),
                esc(&format_taka(i.unit_price)),
            ]));
        }
        out.push_str("</table><table>");
        out.push_str(&head(&[
            ("অবস্থা বদল", "Status change"),
            ("কখন", "When"),
            ("কে", "By"),
        ]));
        for e in &o.history {
            let from = e
                .from
                .as_deref()
                .map(|f| value("status", f) + " → ")
                .unwrap_or_default();
            out.push_str(&row(&[
                format!("{from}{}", value("status", &e.to)),
                esc(&local(&e.at)),
                opt(&e.by),
            ]));
        }
        out.push_str("</table></article>");
    }
}

pub(super) fn technical(out: &mut String, d: &ExportData) {
    let t = &d.technical;
    let _ = write!(
        out,
        "<p>{}</p>",
        bi(
            &format!(
                "নিরাপত্তার জন্য রাখা হয়, {} দিন পর মুছে ফেলা হয়।",
                chotomoni_domain::catalog::bangla_digits(t.retention_days)
            ),
            &format!(
                "Kept for security, and cleared after {} days.",
                t.retention_days
            )
        )
    );
    let _ = write!(out, "<h3>{}</h3>", bi("সেশন", "Sessions"));
    table(
        out,
        &t.sessions,
        &[
            ("শুরু", "Started"),
            ("শেষ দেখা", "Last seen"),
            ("আইপি অ্যাড্রেস", "IP address"),
            ("ডিভাইস", "Device"),
            ("ব্রাউজার", "Browser"),
            ("ধরন", "Kind"),
            ("কার্ট", "Cart"),
        ],
        |s| {
            vec![
                esc(&local(&s.started_at)),
                esc(&local(&s.last_seen_at)),
                opt(&s.ip_address),
                opt(&s.device_kind),
                opt(&s.user_agent),
                value("session", &s.kind),
                format!("<code>{}</code>", esc(&s.cart.to_string())),
            ]
        },
    );
    let _ = write!(out, "<h3>{}</h3>", bi("কুকি-পছন্দ", "Cookie choices"));
    table(
        out,
        &t.cookie_choices,
        &[
            ("কখন", "When"),
            ("ফাংশনাল", "Functional"),
            ("অ্যানালিটিক্স", "Analytics"),
            ("নীতির সংস্করণ", "Policy version"),
            ("আইডি", "Id"),
        ],
        |c| {
            vec![
                esc(&local(&c.at)),
                yes(c.functional),
                yes(c.analytics),
                esc(&c.policy_version.to_string()),
                format!("<code>{}</code>", esc(&c.id)),
            ]
        },
    );
}

pub(super) fn consents(out: &mut String, d: &ExportData) {
    table(
        out,
        &d.consents,
        &[
            ("কখন", "When"),
            ("কীসের জন্য", "Purpose"),
            ("দিয়েছেন", "Given"),
            ("কোথায়", "Where"),
            ("নীতির সংস্করণ", "Policy version"),
            ("যে লেখা দেখানো হয়েছিল", "The words shown"),
        ],
        |c| {
            vec![
                esc(&local(&c.at)),
                value("purpose", &c.purpose),
                yes(c.granted),
                value("channel", &c.channel),
                esc(&c.policy_version.to_string()),
                esc(&c.wording),
            ]
        },
    );
}

pub(super) fn acceptances(out: &mut String, d: &ExportData) {
    table(
        out,
        &d.policy_acceptances,
        &[("সংস্করণ", "Version"), ("কোথায়", "Where"), ("কখন", "When")],
        |a| {
            vec![
                esc(&a.version.to_string()),
                value("channel", &a.channel),
                esc(&local(&a.at)),
            ]
        },
    );
}

pub(super) fn disclosures(out: &mut String, d: &ExportData) {
    table(
        out,
        &d.disclosures,
        &[
            ("কখন", "When"),
            ("কাকে", "To whom"),
            ("কোন তথ্য", "Which data"),
            ("কেন", "Why"),
            ("অর্ডার", "Order"),
        ],
        |x| {
            vec![
                esc(&local(&x.at)),
                bi(&x.recipient_bn, &x.recipient_en),
                labels(&x.fields),
                value("purpose", &x.purpose),
                opt(&x.order),
            ]
        },
    );
}

pub(super) fn claims(out: &mut String, d: &ExportData) {
    if d.claims.is_empty() {
        let _ = write!(
            out,
            "<p class=\"none\">{}</p>",
            bi("আপনার কোনো দাবি নেই।", "You have no claims.")
        );
        return;
    }
    table(
        out,
        &d.claims,
        &[
            ("অর্ডার", "Order"),
            ("কী সমস্যা", "What went wrong"),
            ("পণ্য", "Items"),
            ("আপনার বিবরণ", "Your description"),
            ("কখন", "Filed"),
            ("সিদ্ধান্ত", "Decision"),
            ("ফেরত (পয়সা)", "Refund (poisha)"),
            ("কারণ", "Reason"),
        ],
        |c| {
            let items = c
                .items
                .iter()
                .map(|i| format!("{} × {}", i.name, i.quantity))
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                esc(&c.order),
                bi(c.kind.label(true), c.kind.label(false)),
                esc(&items),
                opt(&c.description),
                esc(&local(&c.filed_at)),
                match c.decision {
                    Some(x) => bi(x.label(true), x.label(false)),
                    None => bi("এখনো সিদ্ধান্ত হয়নি", "Not decided yet"),
                },
                opt(&c.refund_amount.map(|p| p.to_string())),
                opt(&c.reason),
            ]
        },
    );
}

pub(super) fn proofs(out: &mut String, d: &ExportData) {
    if d.proofs.is_empty() && d.unfinished_uploads.is_empty() {
        return none(out);
    }
    for p in &d.proofs {
        let _ = write!(
            out,
            "<article id=\"proof-{id}\"><h3>{kind} · {order} · #{id}</h3>",
            id = p.id,
            kind = value("kind", &p.kind),
            order = esc(&p.order),
        );
        if let Some(file) = &p.file {
            let src = esc(file);
            if p.media_type.starts_with("video/") {
                let poster = p
                    .poster
                    .as_deref()
                    .map(|x| format!(" poster=\"{}\"", esc(x)))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "<video controls preload=\"none\"{poster} src=\"{src}\"></video>"
                );
            } else {
                let _ = write!(
                    out,
                    "<a href=\"{src}\"><img alt=\"\" width=\"320\" src=\"{src}\"></a>"
                );
            }
        }
        if let Some(note) = &p.note {
            let _ = write!(out, "<p class=\"note\">{}</p>", esc(note));
        }
        let file = match &p.file {
            Some(f) => format!("<a href=\"{0}\">{0}</a>", esc(f)),
            None => "—".into(),
        };
        let receipt = match &p.receipt {
            Some(r) => format!("<a href=\"{0}\">{0}</a>", esc(r)),
            None => "—".into(),
        };
        dl(
            out,
            &[
                (("ফাইল", "File"), file),
                (("রসিদ", "Receipt"), receipt),
                (
                    ("ধরন ও আকার", "Type and size"),
                    esc(&format!("{}, {} bytes", p.media_type, p.size)),
                ),
                (
                    ("SHA-256", "SHA-256"),
                    format!("<code>{}</code>", esc(&p.sha256)),
                ),
                (
                    ("ডিভাইসে ফাইলের নাম", "File name on the device"),
                    opt(&p.file_name),
                ),
                (
                    ("কখন তোলা", "Taken"),
                    p.captured_at
                        .as_deref()
                        .map(|a| esc(&local(a)))
                        .unwrap_or_else(|| "—".into()),
                ),
                (("কখন পৌঁছেছে", "Received"), esc(&local(&p.received_at))),
                (("কে তুলেছেন", "Recorded by"), esc(&p.uploader)),
                (
                    ("লগে অবস্থান", "Position in the proof log"),
                    esc(&p.log_index.to_string()),
                ),
            ],
        );
        out.push_str("</article>");
    }
    if !d.unfinished_uploads.is_empty() {
        let _ = write!(
            out,
            "<h3>{}</h3><table>",
            bi("আপলোড চলছে", "Still being uploaded")
        );
        out.push_str(&head(&[
            ("অর্ডার", "Order"),
            ("ধরন", "Kind"),
            ("ফাইলের নাম", "File name"),
            ("কখন তোলা", "Taken"),
            ("পৌঁছেছে (বাইট)", "Received (bytes)"),
            ("শুরু", "Started"),
        ]));
        for u in &d.unfinished_uploads {
            out.push_str(&row(&[
                esc(&u.order),
                value("kind", &u.kind),
                opt(&u.file_name),
                u.captured_at
                    .as_deref()
                    .map(|a| esc(&local(a)))
                    .unwrap_or_else(|| "—".into()),
                esc(&format!("{} / {}", u.bytes_received, u.length)),
                esc(&local(&u.started_at)),
            ]));
        }
        out.push_str("</table>");
    }
}

pub(super) fn withheld(out: &mut String, d: &ExportData) {
    let _ = write!(
        out,
        "<section id=\"withheld\"><h2>যা কপি করা হয়নি<br><small lang=\"en\">What is kept but not copied here</small></h2><ul>"
    );
    for w in &d.withheld {
        let _ = write!(
            out,
            "<li>{} <code>{}</code>: {}</li>",
            bi(&w.label_bn, &w.label_en),
            esc(&w.field),
            bi(&w.reason_bn, &w.reason_en)
        );
    }
    out.push_str("</ul></section>\n");
}

/// A parcel in one line: courier, tracking code, status, cash, and any
/// message the courier left.
fn parcel_text(p: &super::super::collect::Parcel) -> String {
    let mut parts = vec![p.courier.clone()];
    if let Some(code) = p.tracking_code.as_ref().or(p.consignment_id.as_ref()) {
        parts.push(code.clone());
    }
    if let Some(status) = &p.status {
        parts.push(status.clone());
    }
    parts.push(format_taka(p.cash_to_collect));
    if let Some(collected) = p.collected {
        parts.push(format!("collected {}", format_taka(collected)));
    }
    if let Some(message) = &p.courier_message {
        parts.push(message.clone());
    }
    esc(&parts.join(" · "))
}
