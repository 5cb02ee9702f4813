//! The export's payment section: each order's payment status and, for
//! online orders, each attempt with its gateway (never card or wallet data).
use super::super::collect::ExportData;
use super::markup::*;
use chotomoni_domain::order::format_taka;
use std::fmt::Write;

pub(super) fn payments(out: &mut String, d: &ExportData) {
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
    if d.payments.iter().all(|p| p.attempts.is_empty()) {
        return;
    }
    let _ = write!(
        out,
        "<h3>{}</h3><table>",
        bi("অনলাইন পেমেন্ট", "Online payments")
    );
    out.push_str(&head(&[
        ("অর্ডার", "Order"),
        ("গেটওয়ে", "Gateway"),
        ("অবস্থা", "Status"),
        ("পরিমাণ", "Amount"),
        ("পরিশোধিত", "Paid"),
        ("গেটওয়ের রেফারেন্স", "Gateway reference"),
        ("শুরু", "Started"),
    ]));
    for p in &d.payments {
        for a in &p.attempts {
            out.push_str(&row(&[
                esc(&p.order),
                esc(&a.gateway),
                esc(&a.status),
                esc(&format_taka(a.amount)),
                a.paid_amount
                    .map(format_taka)
                    .map(|t| esc(&t))
                    .unwrap_or_default(),
                opt(&a.gateway_reference),
                esc(&local(&a.started_at)),
            ]));
        }
    }
    out.push_str("</table>");
}
