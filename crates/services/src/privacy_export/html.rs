//! The human-readable half of an access export: one self-contained HTML page
//! (`index.html`), Bangla first and English after it, with no script and
//! nothing fetched from anywhere; proof files are linked relatively
//! (`proofs/12.mp4`), so the page works from the unzipped folder. Every value
//! is escaped: a name such as `<script>` shows as text.
use super::collect::ExportData;
use super::sections::{Labelled, SectionDoc};
use chotomoni_domain::order::format_taka;
use std::fmt::Write;

/// Text made safe for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Bangla, then English (both escaped).
fn bi(bn: &str, en: &str) -> String {
    format!(
        "<span lang=\"bn\">{}</span> <span class=\"en\" lang=\"en\">{}</span>",
        esc(bn),
        esc(en)
    )
}

/// A stored value (status, channel…) in both languages; unknown values as they are.
fn value(kind: &str, key: &str) -> String {
    let pair = match (kind, key) {
        ("status", "placed") => Some(("অর্ডার হয়েছে", "Placed")),
        ("status", "confirmed") => Some(("নিশ্চিত", "Confirmed")),
        ("status", "packed") => Some(("প্যাক হয়েছে", "Packed")),
        ("status", "handed_to_courier") => Some(("কুরিয়ারের কাছে", "With the courier")),
        ("status", "delivered") => Some(("ডেলিভারি হয়েছে", "Delivered")),
        ("status", "returned") => Some(("ফেরত এসেছে", "Returned")),
        ("status", "cancelled") => Some(("বাতিল", "Cancelled")),
        ("payment", "pending") => Some(("বাকি", "pending")),
        ("payment", "paid") => Some(("পরিশোধিত", "paid")),
        ("payment", "failed") => Some(("ব্যর্থ", "failed")),
        ("payment", "refunded") => Some(("ফেরত দেওয়া হয়েছে", "refunded")),
        ("method", "cod") => Some(("ক্যাশ অন ডেলিভারি", "Cash on delivery")),
        ("method", "online") => Some(("অনলাইনে পেমেন্ট", "Paid online")),
        ("source", "shop") => Some(("অনলাইন দোকান", "Online shop")),
        ("source", "phone") => Some(("ফোন", "Phone")),
        ("source", "facebook") => Some(("ফেসবুক", "Facebook")),
        ("kind", "packing") => Some(("প্যাকিং", "Packing")),
        ("kind", "delivery") => Some(("ডেলিভারি", "Delivery")),
        ("kind", "return") => Some(("ফেরত", "Return")),
        ("kind", "claim") => Some(("অভিযোগ", "Claim")),
        ("purpose", "marketing_sms") => Some(("এসএমএসে অফার ও খবর", "Offers and news by SMS")),
        ("purpose", "marketing_email") => Some(("ইমেইলে অফার ও খবর", "Offers and news by email")),
        ("purpose", "functional_cookies") => Some(("ফাংশনাল কুকি", "Functional cookies")),
        ("purpose", "analytics_cookies") => Some(("অ্যানালিটিক্স কুকি", "Analytics cookies")),
        ("purpose", "fulfilment") => {
            Some(("অর্ডার প্রসেসিং ও ডেলিভারি", "Order processing and delivery"))
        }
        ("purpose", "security") => Some(("নিরাপত্তা", "Security")),
        ("purpose", "improvement") => Some(("সেবা উন্নত করা", "Improving the service")),
        ("purpose", "legal") => Some(("আইনি বাধ্যবাধকতা", "Legal obligations")),
        ("channel", "checkout") => Some(("চেকআউট", "checkout")),
        ("channel", "staff_entry") => Some(("কর্মীর মাধ্যমে অর্ডার", "order taken by staff")),
        ("channel", "account_page") => Some(("অ্যাকাউন্ট পাতা", "account page")),
        ("channel", "unsubscribe_link") => Some(("আনসাবস্ক্রাইব লিংক", "unsubscribe link")),
        ("channel", "sms_stop") => Some(("এসএমএসে STOP", "SMS STOP")),
        ("channel", "privacy_request") => Some(("গোপনীয়তা অনুরোধ", "privacy request")),
        ("channel", "cookie_settings") => Some(("কুকি সেটিংস", "cookie settings")),
        ("channel", "registration") => Some(("রেজিস্ট্রেশন", "registration")),
        ("channel", "notice") => Some(("পরিবর্তনের নোটিশ", "change notice")),
        ("session", "customer") => Some(("সাইন-ইন করা", "signed in")),
        ("session", "visitor") => Some(("অতিথি", "visitor")),
        ("yes", "true") => Some(("হ্যাঁ", "yes")),
        ("yes", "false") => Some(("না", "no")),
        _ => None,
    };
    match pair {
        Some((bn, en)) => bi(bn, en),
        None => esc(key),
    }
}

fn yes(b: bool) -> String {
    value("yes", if b { "true" } else { "false" })
}

/// An RFC 3339 time as Dhaka time, `2026-11-25 16:05`.
fn local(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| crate::orders::local_time(t.timestamp_millis(), false))
        .unwrap_or_else(|_| at.to_owned())
}

fn opt(v: &Option<String>) -> String {
    match v {
        Some(v) => esc(v),
        None => "—".into(),
    }
}

fn labels(items: &[Labelled]) -> String {
    items
        .iter()
        .map(|l| bi(&l.bn, &l.en))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `<th>` cells with bilingual headings.
fn head(cols: &[(&str, &str)]) -> String {
    let mut out = String::from("<thead><tr>");
    for (bn, en) in cols {
        let _ = write!(out, "<th>{}</th>", bi(bn, en));
    }
    out.push_str("</tr></thead>");
    out
}

fn row(cells: &[String]) -> String {
    let mut out = String::from("<tr>");
    for c in cells {
        let _ = write!(out, "<td>{c}</td>");
    }
    out.push_str("</tr>");
    out
}

fn section_start(out: &mut String, doc: &SectionDoc) {
    let _ = write!(
        out,
        "<section id=\"{key}\"><h2>{bn}<br><small lang=\"en\">{en}</small></h2>",
        key = esc(&doc.key),
        bn = esc(&doc.title_bn),
        en = esc(&doc.title_en),
    );
    if !doc.categories.is_empty() {
        let _ = write!(
            out,
            "<p class=\"cat\">{}: {}</p>",
            bi("তথ্যের ধরন", "Category"),
            labels(&doc.categories)
        );
    }
    if !doc.fields.is_empty() {
        let _ = write!(
            out,
            "<details><summary>{}</summary><ul>",
            bi(
                "এই অংশের তথ্য ও কতদিন রাখা হয়",
                "What this part holds and how long it is kept"
            )
        );
        for f in &doc.fields {
            let _ = write!(
                out,
                "<li>{} <code>{}</code> — {}</li>",
                bi(&f.label_bn, &f.label_en),
                esc(&f.field),
                bi(&f.retention_bn, &f.retention_en)
            );
        }
        out.push_str("</ul></details>");
    }
}

fn none(out: &mut String) {
    let _ = write!(out, "<p class=\"none\">{}</p>", bi("কিছু নেই।", "None."));
}

const STYLE: &str = "body{font-family:\"Noto Sans Bengali\",\"Hind Siliguri\",system-ui,sans-serif;max-width:64rem;margin:0 auto;padding:0 1rem 3rem;line-height:1.5}\
h2{border-bottom:2px solid #ddd;margin-top:2.5rem}h2 small{font-weight:normal;color:#555}\
.en{color:#444}.en::before{content:\"/ \";color:#999}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;vertical-align:top;padding:.3rem;border-bottom:1px solid #eee}\
th .en,td .en{display:block}.cat,.none{color:#555}dt{font-weight:600}dd{margin:0 0 .4rem 1rem}\
code{word-break:break-all}video,img{max-width:100%}article{border:1px solid #ddd;padding:.5rem 1rem;margin:1rem 0}";

/// The whole page.
pub fn render(d: &ExportData) -> String {
    let mut out = String::with_capacity(16 * 1024 + d.orders.len() * 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"bn\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>ছোটমনি: আপনার তথ্যের কপি · Chotomoni: a copy of your data</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        bi(
            "ছোটমনিতে আপনার সম্পর্কে রাখা সব তথ্যের কপি",
            "A copy of everything Chotomoni keeps about you"
        )
    );
    let _ = write!(
        out,
        "<p>{}: {} ({})</p>\n<p lang=\"bn\">{}</p>\n<p class=\"en\" lang=\"en\">{}</p>\n",
        bi("তৈরির সময়", "Made"),
        esc(&local(&d.generated_at)),
        bi("ঢাকার সময়", "Dhaka time"),
        esc("এই ফোল্ডারে data.json ফাইলে একই তথ্য যন্ত্রে পড়ার উপযোগী রূপে আছে, আর proofs ফোল্ডারে আপনার অর্ডারের প্রুফ ফাইল ও তাদের রসিদ। প্রতিটি অংশে লেখা আছে তথ্যটি কোন ধরনের, আর কতদিন রাখা হয়।"),
        esc("The same data, in a form programs can read, is in data.json in this folder, and the proof files of your orders with their receipts are in the proofs folder. Each part says which kind of data it is and how long it is kept."),
    );
    out.push_str("<nav><ul>");
    for s in &d.sections {
        let _ = write!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            esc(&s.key),
            bi(&s.title_bn, &s.title_en)
        );
    }
    out.push_str("</ul></nav>\n</header>\n<main>\n");
    for s in &d.sections {
        section_start(&mut out, s);
        match s.key.as_str() {
            "profile" => profile(&mut out, d),
            "addresses" => addresses(&mut out, d),
            "orders" => orders(&mut out, d),
            "payments" => payments(&mut out, d),
            "technical" => technical(&mut out, d),
            "consents" => consents(&mut out, d),
            "policy_acceptances" => acceptances(&mut out, d),
            "disclosures" => disclosures(&mut out, d),
            "claims" => claims(&mut out, d),
            "proofs" => proofs(&mut out, d),
            _ => {}
        }
        out.push_str("</section>\n");
    }
    withheld(&mut out, d);
    let _ = write!(
        out,
        "</main>\n<footer><p>{}</p><p><code>chotomoni verify proofs/FILE proofs/FILE.receipt.json --key KEY</code></p></footer>\n</body>\n</html>\n",
        bi(
            "প্রতিটি প্রুফ ফাইল যে অপরিবর্তিত, তা তার রসিদ দিয়ে যাচাই করা যায় (দোকানের প্রকাশিত লগ-কী দিয়ে):",
            "Each proof file can be checked against its receipt, with the shop's published log key, to show it is unchanged:"
        )
    );
    out
}

fn dl(out: &mut String, rows: &[((&str, &str), String)]) {
    out.push_str("<dl>");
    for ((bn, en), v) in rows {
        let _ = write!(out, "<dt>{}</dt><dd>{v}</dd>", bi(bn, en));
    }
    out.push_str("</dl>");
}

fn profile(out: &mut String, d: &ExportData) {
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
        ],
    );
}

fn address_text(a: &super::collect::Address) -> String {
    format!(
        "{}<br>{}, {}, {}",
        esc(&a.recipient),
        esc(&a.line),
        esc(&a.area),
        esc(&a.district)
    )
}

fn addresses(out: &mut String, d: &ExportData) {
    if d.addresses.is_empty() {
        return none(out);
    }
    out.push_str("<table>");
    out.push_str(&head(&[("ঠিকানা", "Address"), ("অর্ডার", "Orders")]));
    for a in &d.addresses {
        out.push_str(&row(&[address_text(&a.address), esc(&a.orders.join(", "))]));
    }
    out.push_str("</table>");
}

fn orders(out: &mut String, d: &ExportData) {
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

fn payments(out: &mut String, d: &ExportData) {
    if d.payments.is_empty() {
        return none(out);
    }
    let _ = write!(
        out,
        "<p>{}</p><table>",
        bi(
            "কার্ড বা ব্যাংকের তথ্য আমরা রাখি না: শুধু পেমেন্ট সফল হয়েছে কি না।",
            "We keep no card or bank details: only whether the payment succeeded."
        )
    );
    out.push_str(&head(&[
        ("অর্ডার", "Order"),
        ("পদ্ধতি", "Method"),
        ("অবস্থা", "Status"),
        ("মোট", "Total"),
    ]));
    for p in &d.payments {
        out.push_str(&row(&[
            esc(&p.order),
            value("method", &p.method),
            value("payment", &p.status),
            esc(&format_taka(p.total)),
        ]));
    }
    out.push_str("</table>");
}

fn technical(out: &mut String, d: &ExportData) {
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
    if t.sessions.is_empty() {
        none(out);
    } else {
        out.push_str("<table>");
        out.push_str(&head(&[
            ("শুরু", "Started"),
            ("শেষ দেখা", "Last seen"),
            ("আইপি অ্যাড্রেস", "IP address"),
            ("ডিভাইস", "Device"),
            ("ব্রাউজার", "Browser"),
            ("ধরন", "Kind"),
            ("কার্ট", "Cart"),
        ]));
        for s in &t.sessions {
            out.push_str(&row(&[
                esc(&local(&s.started_at)),
                esc(&local(&s.last_seen_at)),
                opt(&s.ip_address),
                opt(&s.device_kind),
                opt(&s.user_agent),
                value("session", &s.kind),
                format!("<code>{}</code>", esc(&s.cart.to_string())),
            ]));
        }
        out.push_str("</table>");
    }
    let _ = write!(out, "<h3>{}</h3>", bi("কুকি-পছন্দ", "Cookie choices"));
    if t.cookie_choices.is_empty() {
        none(out);
    } else {
        out.push_str("<table>");
        out.push_str(&head(&[
            ("কখন", "When"),
            ("ফাংশনাল", "Functional"),
            ("অ্যানালিটিক্স", "Analytics"),
            ("নীতির সংস্করণ", "Policy version"),
            ("আইডি", "Id"),
        ]));
        for c in &t.cookie_choices {
            out.push_str(&row(&[
                esc(&local(&c.at)),
                yes(c.functional),
                yes(c.analytics),
                esc(&c.policy_version.to_string()),
                format!("<code>{}</code>", esc(&c.id)),
            ]));
        }
        out.push_str("</table>");
    }
}

fn consents(out: &mut String, d: &ExportData) {
    if d.consents.is_empty() {
        return none(out);
    }
    out.push_str("<table>");
    out.push_str(&head(&[
        ("কখন", "When"),
        ("কীসের জন্য", "Purpose"),
        ("দিয়েছেন", "Given"),
        ("কোথায়", "Where"),
        ("নীতির সংস্করণ", "Policy version"),
        ("যে লেখা দেখানো হয়েছিল", "The words shown"),
    ]));
    for c in &d.consents {
        out.push_str(&row(&[
            esc(&local(&c.at)),
            value("purpose", &c.purpose),
            yes(c.granted),
            value("channel", &c.channel),
            esc(&c.policy_version.to_string()),
            esc(&c.wording),
        ]));
    }
    out.push_str("</table>");
}

fn acceptances(out: &mut String, d: &ExportData) {
    if d.policy_acceptances.is_empty() {
        return none(out);
    }
    out.push_str("<table>");
    out.push_str(&head(&[
        ("সংস্করণ", "Version"),
        ("কোথায়", "Where"),
        ("কখন", "When"),
    ]));
    for a in &d.policy_acceptances {
        out.push_str(&row(&[
            esc(&a.version.to_string()),
            value("channel", &a.channel),
            esc(&local(&a.at)),
        ]));
    }
    out.push_str("</table>");
}

fn disclosures(out: &mut String, d: &ExportData) {
    if d.disclosures.is_empty() {
        return none(out);
    }
    out.push_str("<table>");
    out.push_str(&head(&[
        ("কখন", "When"),
        ("কাকে", "To whom"),
        ("কোন তথ্য", "Which data"),
        ("কেন", "Why"),
        ("অর্ডার", "Order"),
    ]));
    for x in &d.disclosures {
        out.push_str(&row(&[
            esc(&local(&x.at)),
            bi(&x.recipient_bn, &x.recipient_en),
            labels(&x.fields),
            value("purpose", &x.purpose),
            opt(&x.order),
        ]));
    }
    out.push_str("</table>");
}

fn claims(out: &mut String, d: &ExportData) {
    if d.claims.is_empty() {
        let _ = write!(
            out,
            "<p class=\"none\">{}</p>",
            bi("আপনার কোনো দাবি নেই।", "You have no claims.")
        );
    }
}

fn proofs(out: &mut String, d: &ExportData) {
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

fn withheld(out: &mut String, d: &ExportData) {
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

#[cfg(test)]
mod tests {
    use super::super::collect::*;
    use super::super::sections::section_docs;
    use super::*;

    fn sample(name: &str) -> ExportData {
        ExportData {
            format: FORMAT.into(),
            generated_at: "2026-11-25T10:05:00Z".into(),
            export_id: 1,
            request_id: None,
            sections: section_docs(90),
            profile: Profile {
                customer_number: 7,
                name: name.into(),
                phone: "+8801711000001".into(),
                email: Some("a\"b@example.com".into()),
                phone_fingerprint: Some("abcd".into()),
                email_fingerprint: None,
                has_password: true,
                customer_since: "2026-11-25T10:05:00Z".into(),
            },
            addresses: vec![AddressUse {
                address: Address {
                    recipient: name.into(),
                    line: "House <b>12</b> & Road 7".into(),
                    area: "Mirpur".into(),
                    district: "Dhaka".into(),
                },
                orders: vec!["CM-000001".into()],
            }],
            orders: vec![],
            payments: vec![],
            technical: Technical {
                retention_days: 90,
                sessions: vec![],
                cookie_choices: vec![],
            },
            consents: vec![],
            policy_acceptances: vec![],
            disclosures: vec![],
            claims: vec![],
            proofs: vec![Proof {
                id: 5,
                order: "CM-000001".into(),
                kind: "packing".into(),
                media_type: "video/mp4".into(),
                size: 10,
                sha256: "00".into(),
                file_name: Some("<img src=x onerror=alert(1)>.mp4".into()),
                captured_at: None,
                received_at: "2026-11-25T10:05:00Z".into(),
                uploader: "staff:1".into(),
                duration_ms: None,
                width: None,
                height: None,
                has_audio: None,
                log_index: 0,
                file: Some("proofs/5.mp4".into()),
                poster: None,
                receipt: Some("proofs/5.receipt.json".into()),
                note: None,
            }],
            unfinished_uploads: vec![],
            withheld: vec![],
        }
    }

    #[test]
    fn markup_in_personal_data_shows_as_text() {
        let page = render(&sample("<script>alert('x')</script>"));
        assert!(!page.contains("<script"), "no script element may appear");
        assert!(page.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"));
        assert!(page.contains("House &lt;b&gt;12&lt;/b&gt; &amp; Road 7"));
        assert!(page.contains("a&quot;b@example.com"));
        assert!(!page.contains("<img src=x"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.mp4"));
    }

    #[test]
    fn the_page_is_bilingual_self_contained_and_links_proofs_relatively() {
        let page = render(&sample("Rahima Begum"));
        for words in [
            "আপনার প্রোফাইল",
            "Your profile",
            "দাবি",
            "You have no claims.",
            "আপনার কোনো দাবি নেই।",
            "পরিচয়",
            "Identity",
        ] {
            assert!(page.contains(words), "{words}");
        }
        assert!(page.contains("src=\"proofs/5.mp4\""));
        assert!(page.contains("href=\"proofs/5.receipt.json\""));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "nothing is fetched"
        );
        // Bangla comes before English.
        assert!(page.find("আপনার প্রোফাইল").unwrap() < page.find("Your profile").unwrap());
    }

    #[test]
    fn escaping_covers_every_special_character() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(esc("রহিমা"), "রহিমা");
    }
}
