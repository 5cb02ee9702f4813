//! bKash tokenized checkout (v1.2.0-beta) behind [`Gateway`].
//!
//! - Tokens: see [`token`]. Every other call carries `authorization: <id_token>`
//!   (bKash takes it without `Bearer`) and `x-app-key`.
//! - [`Gateway::start`] creates a payment and sends the customer to `bkashURL`.
//!   bKash needs no customer data: `payerReference` is the order number.
//! - [`Gateway::complete`]: the customer comes back with `paymentID` and
//!   `status`; only `success` is executed, and an execute that fails on the
//!   way (timeout, 5xx) or was already made is followed by `payment/status`,
//!   bKash's documented recovery, since the customer may have been charged.
//! - Every answer goes through [`Kept::from_json`] before anything reads it,
//!   so the wallet numbers in `customerMsisdn` and `payerReference` are
//!   never held, logged or returned.
//! - `statusCode` other than `0000` (or an `errorCode`) is
//!   [`GatewayError::Refused`] with bKash's own message.
//! - Reads (`payment/status`, refund status) are tried [`READ_ATTEMPTS`]
//!   times after transient failures and once more with a new token after a
//!   401; `create`, `execute` and refunds once, since bKash may have acted
//!   on a request whose answer was lost.
//!
//! Credentials and tokens never appear in `Debug`, errors or logs.
use chotomoni_gateway::{
    poisha_from_taka, taka, with_retries, Checkout, Gateway, GatewayError, GatewayFuture, Kept,
    PaymentFacts, PaymentOutcome, RefundFacts, RefundOutcome, RefundRequest, Return, Started,
};
use std::time::Duration;

mod token;
pub use token::refresh_margin;

#[cfg(any(test, feature = "stand-in"))]
pub mod stand_in;

#[cfg(test)]
mod tests;

pub const SANDBOX_BASE_URL: &str =
    "https://tokenized.sandbox.bka.sh/v1.2.0-beta/tokenized/checkout";
pub const LIVE_BASE_URL: &str = "https://tokenized.pay.bka.sh/v1.2.0-beta/tokenized/checkout";

/// bKash refunds a payment only within this many days of it. The adapter
/// does not know when a payment was made: the caller checks this first,
/// and bKash's own refusal past it arrives as `Refused`.
pub const REFUND_DAYS: u32 = 15;
/// `mode` 0011: checkout without an agreement (no saved wallet).
pub const MODE_CHECKOUT: &str = "0011";
/// The `statusCode` bKash answers a second `execute` with (assumed from
/// its published error list; the status then says how the payment stands).
pub const ALREADY_EXECUTED: &str = "2117";
/// How often a read (payment status, refund status) is tried in all.
pub const READ_ATTEMPTS: u32 = 3;
/// The wait before a read's second try; doubled before each further one.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(250);
/// bKash's limit for a refund's `reason` (assumed; longer ones are cut).
pub const REASON_CHARS: usize = 255;

/// Settings of the bKash client. `Debug` shows none of the secrets.
#[derive(Clone)]
pub struct BkashConfig {
    /// [`SANDBOX_BASE_URL`] or [`LIVE_BASE_URL`].
    pub base_url: String,
    pub username: String,
    pub password: String,
    pub app_key: String,
    pub app_secret: String,
    /// For each HTTP request.
    pub timeout: Duration,
}

impl std::fmt::Debug for BkashConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BkashConfig")
            .field("base_url", &self.base_url)
            .field("username", &"***")
            .field("password", &"***")
            .field("app_key", &"***")
            .field("app_secret", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl BkashConfig {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url.trim_end_matches('/'))
    }

    fn transport(&self, e: reqwest::Error) -> GatewayError {
        if e.is_timeout() {
            GatewayError::Timeout(self.timeout)
        } else {
            GatewayError::Unreachable(e.without_url().to_string())
        }
    }
}

/// Reads an answer through [`Kept`] and turns bKash's refusals into errors.
fn answer_of(status: u16, bytes: &[u8]) -> Result<Kept, GatewayError> {
    if status == 429 || status >= 500 {
        return Err(GatewayError::Unreachable(format!(
            "bKash answered HTTP {status}"
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| GatewayError::Protocol(format!("unreadable answer (HTTP {status})")))?;
    let kept = Kept::from_json(&json);
    let refusal = [
        ("statusCode", "statusMessage"),
        ("errorCode", "errorMessage"),
    ]
    .into_iter()
    .find_map(|(code, message)| {
        let code = kept.get(code).filter(|c| *c != "0000")?;
        Some(GatewayError::Refused {
            code: code.to_owned(),
            message: kept.get(message).unwrap_or_default().to_owned(),
        })
    });
    match refusal {
        Some(refused) => Err(refused),
        None if !(200..300).contains(&status) => Err(GatewayError::Refused {
            code: format!("HTTP {status}"),
            message: String::new(),
        }),
        None => Ok(kept),
    }
}

/// Whether repeating a call could make bKash act twice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Safe,
    Never,
}

/// The bKash tokenized checkout client.
pub struct Bkash {
    config: BkashConfig,
    http: reqwest::Client,
    tokens: token::Tokens,
}

impl std::fmt::Debug for Bkash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bkash")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Bkash {
    pub fn new(config: BkashConfig) -> Result<Bkash, GatewayError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| GatewayError::Unreachable(e.without_url().to_string()))?;
        Ok(Bkash {
            config,
            http,
            tokens: token::Tokens::default(),
        })
    }

    /// One authorized call; a safe one is tried again after transient
    /// failures, waiting [`RETRY_BACKOFF`] and then twice as long.
    async fn call(
        &self,
        path: &'static str,
        body: &serde_json::Value,
        repeat: Repeat,
    ) -> Result<Kept, GatewayError> {
        let retries = if repeat == Repeat::Safe {
            READ_ATTEMPTS - 1
        } else {
            0
        };
        with_retries(retries, RETRY_BACKOFF, || {
            self.call_once(path, body, repeat)
        })
        .await
    }

    /// One authorized call. A 401 (token expired early or revoked) gets a
    /// new token and one more try only when repeating is safe.
    async fn call_once(
        &self,
        path: &'static str,
        body: &serde_json::Value,
        repeat: Repeat,
    ) -> Result<Kept, GatewayError> {
        let mut token = self.tokens.get(&self.http, &self.config, None).await?;
        for attempt in 0..2 {
            let res = self
                .http
                .post(self.config.url(path))
                .header(reqwest::header::AUTHORIZATION, &token)
                .header("x-app-key", &self.config.app_key)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(body)
                .send()
                .await
                .map_err(|e| self.config.transport(e))?;
            let status = res.status().as_u16();
            let bytes = res.bytes().await.map_err(|e| self.config.transport(e))?;
            // Only the path and status: answers may name the payer.
            tracing::debug!(path, status, "bKash answered");
            if status == 401 || status == 403 {
                if attempt == 0 && repeat == Repeat::Safe {
                    token = self
                        .tokens
                        .get(&self.http, &self.config, Some(&token))
                        .await?;
                    continue;
                }
                self.tokens.refused(&token).await;
                return Err(GatewayError::Unauthorized);
            }
            return answer_of(status, &bytes);
        }
        unreachable!("the loop returns on its second attempt")
    }

    async fn create(&self, checkout: &Checkout) -> Result<Started, GatewayError> {
        if checkout.amount <= 0 {
            return Err(local_refusal("a payment must be above zero"));
        }
        let body = serde_json::json!({
            "mode": MODE_CHECKOUT,
            // bKash shows it to the customer and keys saved wallets on it;
            // the order number serves, and no phone number leaves the shop.
            "payerReference": checkout.order_number,
            "callbackURL": checkout.return_url,
            "amount": taka(checkout.amount),
            "currency": "BDT",
            "intent": "sale",
            "merchantInvoiceNumber": checkout.tran_id,
        });
        let kept = self.call("create", &body, Repeat::Never).await?;
        match (kept.get("paymentID"), kept.get("bkashURL")) {
            (Some(id), Some(url)) => Ok(Started {
                redirect_url: url.to_owned(),
                gateway_ref: id.to_owned(),
                // bKash asks the customer for the wallet itself.
                customer_fields_sent: Vec::new(),
            }),
            _ => Err(GatewayError::Protocol(
                "a created payment without paymentID or bkashURL".into(),
            )),
        }
    }

    async fn complete_return(&self, back: &Return) -> Result<PaymentFacts, GatewayError> {
        // The return is the customer's browser: a paymentID other than the
        // one this attempt created is someone else's payment.
        let payment_id = back.fields.get("paymentID").unwrap_or_default();
        if payment_id != back.gateway_ref || payment_id.is_empty() {
            return Err(GatewayError::BadSignature);
        }
        let outcome = match back.fields.get("status") {
            Some("success") => return self.execute(&back.tran_id, payment_id).await,
            Some("failure") => PaymentOutcome::Failed,
            Some("cancel") => PaymentOutcome::Cancelled,
            _ => {
                return Err(GatewayError::Protocol(
                    "a return without a known status".into(),
                ))
            }
        };
        Ok(PaymentFacts {
            tran_id: back.tran_id.clone(),
            outcome,
            amount: None,
            currency: None,
            gateway_payment_id: Some(payment_id.to_owned()),
            gateway_transaction_id: None,
            risk_level: None,
            gateway_status: back.fields.get("status").unwrap_or_default().to_owned(),
        })
    }

    async fn execute(&self, tran_id: &str, payment_id: &str) -> Result<PaymentFacts, GatewayError> {
        let body = serde_json::json!({ "paymentID": payment_id });
        match self.call("execute", &body, Repeat::Never).await {
            Ok(kept) => facts_of(tran_id, payment_id, &kept),
            Err(e) if recoverable(&e) => {
                tracing::info!(error = %e, "bKash execute unanswered; asking its status");
                self.status(tran_id, payment_id).await
            }
            Err(e) => Err(e),
        }
    }

    async fn status(&self, tran_id: &str, payment_id: &str) -> Result<PaymentFacts, GatewayError> {
        let body = serde_json::json!({ "paymentID": payment_id });
        let kept = self.call("payment/status", &body, Repeat::Safe).await?;
        facts_of(tran_id, payment_id, &kept)
    }

    async fn refund_now(&self, refund: &RefundRequest) -> Result<RefundFacts, GatewayError> {
        if refund.amount <= 0 {
            return Err(local_refusal("a refund must be above zero"));
        }
        let (payment_id, trx_id) = paid_ids(refund)?;
        let reason: String = refund.reason.chars().take(REASON_CHARS).collect();
        // Above what was paid or past REFUND_DAYS is left to bKash to refuse:
        // its message is the one staff can act on.
        let body = serde_json::json!({
            "amount": taka(refund.amount),
            "paymentID": payment_id,
            "trxID": trx_id,
            "sku": refund.refund_id,
            "reason": reason,
        });
        let kept = self.call("payment/refund", &body, Repeat::Never).await?;
        Ok(refund_facts(refund, &kept))
    }

    async fn refund_status_now(&self, refund: &RefundRequest) -> Result<RefundFacts, GatewayError> {
        let (payment_id, trx_id) = paid_ids(refund)?;
        let body = serde_json::json!({ "paymentID": payment_id, "trxID": trx_id });
        let kept = self.call("payment/refund", &body, Repeat::Safe).await?;
        Ok(refund_facts(refund, &kept))
    }
}

/// An execute whose fate only `payment/status` can tell: no answer, an
/// answer that is not bKash's (a proxy's HTTP error page), or bKash saying
/// it was executed before (a reloaded return). bKash's own plugin asks the
/// status after any execute that is not a plain 200.
fn recoverable(e: &GatewayError) -> bool {
    match e {
        GatewayError::Refused { code, .. } => code == ALREADY_EXECUTED || code.starts_with("HTTP "),
        GatewayError::Protocol(_) => true,
        other => other.is_transient(),
    }
}

fn local_refusal(message: &str) -> GatewayError {
    GatewayError::Refused {
        code: "local".into(),
        message: message.into(),
    }
}

fn paid_ids(refund: &RefundRequest) -> Result<(&str, &str), GatewayError> {
    match (
        refund.payment.gateway_payment_id.as_deref(),
        refund.payment.gateway_transaction_id.as_deref(),
    ) {
        (Some(p), Some(t)) => Ok((p, t)),
        _ => Err(local_refusal(
            "a bKash refund needs the payment's paymentID and trxID",
        )),
    }
}

fn facts_of(tran_id: &str, payment_id: &str, kept: &Kept) -> Result<PaymentFacts, GatewayError> {
    if kept.get("paymentID").is_some_and(|p| p != payment_id)
        || kept
            .get("merchantInvoiceNumber")
            .is_some_and(|i| i != tran_id)
    {
        return Err(GatewayError::Protocol(
            "bKash answered about another payment".into(),
        ));
    }
    let said = kept.get("transactionStatus").unwrap_or_default();
    let outcome = match said {
        "Completed" => PaymentOutcome::Paid,
        "Cancelled" => PaymentOutcome::Cancelled,
        "Failed" | "Expired" | "Declined" => PaymentOutcome::Failed,
        // Initiated, Authorized (not used with intent sale), or unknown.
        _ => PaymentOutcome::Pending,
    };
    let trx_id = kept.get("trxID");
    if outcome == PaymentOutcome::Paid && trx_id.is_none() {
        return Err(GatewayError::Protocol(
            "a completed payment without trxID".into(),
        ));
    }
    Ok(PaymentFacts {
        tran_id: tran_id.to_owned(),
        outcome,
        amount: kept.get("amount").and_then(poisha_from_taka),
        currency: kept.get("currency").map(str::to_owned),
        gateway_payment_id: Some(payment_id.to_owned()),
        gateway_transaction_id: trx_id.map(str::to_owned),
        risk_level: None,
        gateway_status: said.to_owned(),
    })
}

fn refund_facts(refund: &RefundRequest, kept: &Kept) -> RefundFacts {
    let said = kept.get("transactionStatus").unwrap_or_default();
    RefundFacts {
        refund_id: refund.refund_id.clone(),
        outcome: if said == "Completed" {
            RefundOutcome::Refunded
        } else {
            RefundOutcome::Processing
        },
        gateway_ref: kept.get("refundTrxID").map(str::to_owned),
        gateway_status: said.to_owned(),
    }
}

impl Gateway for Bkash {
    fn name(&self) -> &'static str {
        "bkash"
    }

    fn start<'a>(&'a self, checkout: &'a Checkout) -> GatewayFuture<'a, Started> {
        Box::pin(self.create(checkout))
    }

    fn complete<'a>(&'a self, back: &'a Return) -> GatewayFuture<'a, PaymentFacts> {
        Box::pin(self.complete_return(back))
    }

    /// bKash's webhooks come through AWS SNS, signed with a certificate
    /// fetched from a URL inside the message; this adapter does not take
    /// them. A payment completes by `execute` on the customer's return,
    /// `payment/status` when that fails, and the background query of
    /// payments with no news (a closed browser), which needs no notice.
    fn notice<'a>(&'a self, _pairs: &'a [(String, String)]) -> GatewayFuture<'a, PaymentFacts> {
        Box::pin(std::future::ready(Err(GatewayError::NotSupported(
            "server notices",
        ))))
    }

    fn query<'a>(
        &'a self,
        tran_id: &'a str,
        gateway_ref: &'a str,
    ) -> GatewayFuture<'a, PaymentFacts> {
        Box::pin(self.status(tran_id, gateway_ref))
    }

    fn refund<'a>(&'a self, refund: &'a RefundRequest) -> GatewayFuture<'a, RefundFacts> {
        Box::pin(self.refund_now(refund))
    }

    /// bKash keys a refund by its payment, not by its `refundTrxID`.
    fn refund_status<'a>(
        &'a self,
        refund: &'a RefundRequest,
        _gateway_ref: &'a str,
    ) -> GatewayFuture<'a, RefundFacts> {
        Box::pin(self.refund_status_now(refund))
    }
}
