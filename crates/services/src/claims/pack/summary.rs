//! The pack's `summary.txt`: what the claim is about and how it was
//! decided, in English and then Bangla, for a marketplace's or courier's
//! reviewer. It names the customer only when staff chose to include the
//! delivery contact.
use crate::claims::story::ClaimStory;
use crate::orders::local_time;
use std::fmt::Write;

/// One file of the pack as the summary lists it.
pub struct Listed<'a> {
    pub path: &'a str,
    pub kind: &'a str,
    pub captured_at: Option<i64>,
    pub received_at: i64,
    pub sha256: &'a str,
    pub log_index: i64,
    pub excerpt: Option<&'a str>,
}

/// An RFC 3339 time as Dhaka's clock reads it, as the files' times are.
fn local(rfc3339: &str, bangla: bool) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| local_time(t.timestamp_millis(), bangla))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

fn taka(poisha: i64) -> String {
    format!("{}.{:02}", poisha / 100, poisha % 100)
}

pub fn render(story: &ClaimStory, files: &[Listed<'_>], include_contact: bool) -> String {
    let mut out = String::new();
    for bangla in [false, true] {
        section(&mut out, story, files, include_contact, bangla);
        out.push('\n');
    }
    out
}

fn section(
    out: &mut String,
    story: &ClaimStory,
    files: &[Listed<'_>],
    include_contact: bool,
    bangla: bool,
) {
    let t = |en: &'static str, bn: &'static str| if bangla { bn } else { en };
    let (claim, order) = (&story.claim, &story.order);
    let _ = writeln!(
        out,
        "{} {} — {} {}",
        t("Claim", "দাবি"),
        claim.id,
        t("order", "অর্ডার"),
        order.number
    );
    let _ = writeln!(out, "{}", "=".repeat(40));
    let _ = writeln!(
        out,
        "{}",
        t("Times are Dhaka time (UTC+6).", "সময় ঢাকার সময় (UTC+6)।")
    );
    let _ = writeln!(
        out,
        "{}: {}",
        t("What went wrong", "সমস্যা"),
        claim.kind.label(bangla)
    );
    if let Some(reference) = &claim.reference {
        let _ = writeln!(out, "{}: {reference}", t("Reference", "রেফারেন্স"));
    }
    let _ = writeln!(
        out,
        "{}: {}",
        t("Order placed", "অর্ডারের সময়"),
        local(&order.created_at, bangla)
    );
    let _ = writeln!(
        out,
        "{}: {}",
        t("Claim filed", "দাবির সময়"),
        local(&claim.filed_at, bangla)
    );
    let _ = writeln!(out, "\n{}:", t("Items ordered", "অর্ডার করা পণ্য"));
    for item in &order.items {
        let _ = writeln!(
            out,
            "  - {} × {} ({} {})",
            item.name,
            item.quantity,
            t("Tk", "৳"),
            taka(item.unit_price)
        );
    }
    let _ = writeln!(
        out,
        "{}: {} {}",
        t("Order total", "অর্ডারের মোট"),
        t("Tk", "৳"),
        taka(order.total)
    );
    if !claim.items.is_empty() {
        let _ = writeln!(out, "{}:", t("Items claimed", "দাবি করা পণ্য"));
        for item in &claim.items {
            let _ = writeln!(out, "  - {} × {}", item.name, item.quantity);
        }
    }
    if let (Some(decision), Some(at)) = (claim.decision, &claim.decided_at) {
        let _ = writeln!(
            out,
            "\n{}: {} ({})",
            t("Decision", "সিদ্ধান্ত"),
            decision.label(bangla),
            local(at, bangla)
        );
        if let Some(amount) = claim.refund_amount {
            let _ = writeln!(
                out,
                "  {}: {} {}",
                t("Refund", "ফেরত"),
                t("Tk", "৳"),
                taka(amount)
            );
        }
        if let Some(order) = &claim.replacement_order {
            let _ = writeln!(out, "  {}: {order}", t("Replacement order", "বদলি অর্ডার"));
        }
        if let Some(reason) = &claim.reason {
            let _ = writeln!(out, "  {}: {reason}", t("Reason", "কারণ"));
        }
    }
    if include_contact {
        let _ = writeln!(out, "\n{}:", t("Delivery contact", "ডেলিভারির যোগাযোগ"));
        if let Some(c) = &order.customer {
            let _ = writeln!(out, "  {} / {}", c.name, c.phone);
        }
        let a = &order.address;
        let parts: Vec<&str> = [&a.recipient, &a.line, &a.area, &a.district]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect();
        let _ = writeln!(out, "  {}", parts.join(", "));
    }
    let _ = writeln!(out, "\n{}:", t("Order history", "অর্ডারের ইতিহাস"));
    for moment in &story.timeline {
        let what = moment.detail.as_deref().unwrap_or(&moment.what);
        let _ = writeln!(
            out,
            "  {}  {} {}",
            local(&moment.at, bangla),
            moment.what,
            what
        );
    }
    let _ = writeln!(
        out,
        "\n{}:",
        t(
            "Files (originals exactly as recorded; each is entry N of our transparency log)",
            "ফাইল (মূল ফাইল, যেমন রেকর্ড করা হয়েছিল; প্রতিটি আমাদের স্বচ্ছতা লগের N নম্বর এন্ট্রি)"
        )
    );
    for f in files {
        let captured = f.captured_at.map_or_else(
            || t("unknown", "অজানা").to_owned(),
            |ms| local_time(ms, bangla),
        );
        let _ = writeln!(
            out,
            "  {}\n    {}: {} · {}: {} · {}: {}\n    N = {} · SHA-256 {}",
            f.path,
            t("kind", "ধরন"),
            f.kind,
            t("recorded", "রেকর্ডের সময়"),
            captured,
            t("received", "পৌঁছেছে"),
            local_time(f.received_at, bangla),
            f.log_index,
            f.sha256
        );
        if let Some(excerpt) = f.excerpt {
            let _ = writeln!(out, "    {}: {excerpt}", t("excerpt", "অংশ"));
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        t(
            "Open verify.html in a browser and choose the files in originals/ to check, without the internet, that each is exactly the file our log recorded. Excerpts are shortened copies for upload limits; only originals are logged.",
            "ব্রাউজারে verify.html খুলে originals/ ফোল্ডারের ফাইলগুলো বেছে নিন: ইন্টারনেট ছাড়াই দেখা যাবে প্রতিটি ফাইল ঠিক সেটিই যা আমাদের লগে রেকর্ড করা আছে। অংশগুলো (excerpts) আপলোডের সীমার জন্য ছোট করা কপি; শুধু মূল ফাইলগুলো লগে আছে।"
        )
    );
}
