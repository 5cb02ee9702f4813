//! The human-readable half of an access export: one self-contained HTML page
//! (`index.html`), Bangla first and English after it, with no script and
//! nothing fetched from anywhere; proof files are linked relatively
//! (`proofs/12.mp4`), so the page works from the unzipped folder. Every value
//! is escaped: a name such as `<script>` shows as text.
mod markup;
mod parts;
mod payments;

use super::collect::ExportData;
use markup::{bi, esc, local, section_start};
use parts::*;
use payments::payments;
use std::fmt::Write;

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
            sections: section_docs(&Default::default()),
            profile: Profile {
                customer_number: 7,
                name: name.into(),
                phone: "+8801711000001".into(),
                email: Some("a\"b@example.com".into()),
                phone_fingerprint: Some("abcd".into()),
                email_fingerprint: None,
                has_password: true,
                customer_since: "2026-11-25T10:05:00Z".into(),
                phone_proven_at: Some("2026-11-25T10:06:00Z".into()),
                email_proven_at: None,
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
