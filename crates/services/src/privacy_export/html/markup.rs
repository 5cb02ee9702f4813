//! The building blocks of the page: escaping, the two languages side by side,
//! values shown the way people read them, tables and definition lists.
use super::super::sections::{Labelled, SectionDoc};
use std::fmt::Write;

/// Text made safe for HTML element content and quoted attribute values.
pub(super) fn esc(text: &str) -> String {
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
pub(super) fn bi(bn: &str, en: &str) -> String {
    format!(
        "<span lang=\"bn\">{}</span> <span class=\"en\" lang=\"en\">{}</span>",
        esc(bn),
        esc(en)
    )
}

/// A stored value (status, channel…) in both languages; unknown values as they are.
pub(super) fn value(kind: &str, key: &str) -> String {
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

pub(super) fn yes(b: bool) -> String {
    value("yes", if b { "true" } else { "false" })
}

/// An RFC 3339 time as Dhaka time, `2026-11-25 16:05`.
pub(super) fn local(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| crate::orders::local_time(t.timestamp_millis(), false))
        .unwrap_or_else(|_| at.to_owned())
}

pub(super) fn opt(v: &Option<String>) -> String {
    match v {
        Some(v) => esc(v),
        None => "—".into(),
    }
}

pub(super) fn labels(items: &[Labelled]) -> String {
    items
        .iter()
        .map(|l| bi(&l.bn, &l.en))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `<th>` cells with bilingual headings.
pub(super) fn head(cols: &[(&str, &str)]) -> String {
    let mut out = String::from("<thead><tr>");
    for (bn, en) in cols {
        let _ = write!(out, "<th>{}</th>", bi(bn, en));
    }
    out.push_str("</tr></thead>");
    out
}

/// A table of `items` under bilingual headings, a row of `cells` each, or
/// "None." when there are none.
pub(super) fn table<T>(
    out: &mut String,
    items: &[T],
    cols: &[(&str, &str)],
    cells: impl Fn(&T) -> Vec<String>,
) {
    if items.is_empty() {
        return none(out);
    }
    out.push_str("<table>");
    out.push_str(&head(cols));
    for item in items {
        out.push_str(&row(&cells(item)));
    }
    out.push_str("</table>");
}

pub(super) fn row(cells: &[String]) -> String {
    let mut out = String::from("<tr>");
    for c in cells {
        let _ = write!(out, "<td>{c}</td>");
    }
    out.push_str("</tr>");
    out
}

pub(super) fn section_start(out: &mut String, doc: &SectionDoc) {
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

pub(super) fn none(out: &mut String) {
    let _ = write!(out, "<p class=\"none\">{}</p>", bi("কিছু নেই।", "None."));
}

pub(super) fn dl(out: &mut String, rows: &[((&str, &str), String)]) {
    out.push_str("<dl>");
    for ((bn, en), v) in rows {
        let _ = write!(out, "<dt>{}</dt><dd>{v}</dd>", bi(bn, en));
    }
    out.push_str("</dl>");
}
