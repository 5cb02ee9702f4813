//! Templates and translations: one minijinja environment and one Fluent
//! bundle per language, both built once. Every word a person reads comes
//! from `locales/*.ftl` through the template function `t`.
use chotomoni_domain::catalog::{bangla_digits, Lang};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, State};
use std::sync::OnceLock;

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> &'static Bundle {
    static EN: OnceLock<Bundle> = OnceLock::new();
    static BN: OnceLock<Bundle> = OnceLock::new();
    let (cell, source, id) = match lang {
        Lang::En => (&EN, include_str!("../../locales/en.ftl"), "en"),
        Lang::Bn => (&BN, include_str!("../../locales/bn.ftl"), "bn"),
    };
    cell.get_or_init(|| {
        let id: unic_langid::LanguageIdentifier = id.parse().expect("valid language id");
        let mut b = FluentBundle::new_concurrent(vec![id]);
        b.set_use_isolating(false);
        for source in [
            source,
            station_source(lang),
            requests_source(lang),
            claims_source(lang),
            couriers_source(lang),
            fraud_source(lang),
            payments_source(lang),
        ] {
            let res = FluentResource::try_new(source.to_owned()).expect("locale file parses");
            b.add_resource(res).expect("no duplicate messages");
        }
        b
    })
}

/// The privacy requests' words (`locales/requests.*.ftl`).
fn requests_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../../locales/requests.en.ftl"),
        Lang::Bn => include_str!("../../locales/requests.bn.ftl"),
    }
}

/// The claims desk's words (`locales/claims.*.ftl`).
fn claims_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../../locales/claims.en.ftl"),
        Lang::Bn => include_str!("../../locales/claims.bn.ftl"),
    }
}

/// Couriers' words (`locales/couriers.*.ftl`).
fn couriers_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../../locales/couriers.en.ftl"),
        Lang::Bn => include_str!("../../locales/couriers.bn.ftl"),
    }
}

/// Online payments' words (`locales/payments.*.ftl`).
fn payments_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../../locales/payments.en.ftl"),
        Lang::Bn => include_str!("../../locales/payments.bn.ftl"),
    }
}

/// The fraud signals' words (`locales/fraud.*.ftl`).
fn fraud_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../../locales/fraud.en.ftl"),
        Lang::Bn => include_str!("../../locales/fraud.bn.ftl"),
    }
}

/// The packing station's words (`locales/station.*.ftl`), in the same bundles.
fn station_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../../locales/station.en.ftl"),
        Lang::Bn => include_str!("../../locales/station.bn.ftl"),
    }
}

/// Every `station-` message in `lang`, formatted without arguments: a
/// variable stays as `{$name}` for the station's script to fill in.
pub fn station_strings(lang: Lang) -> std::collections::BTreeMap<String, String> {
    let b = bundle(lang);
    station_source(lang)
        .lines()
        .filter(|line| line.starts_with("station-"))
        .filter_map(|line| line.split_once('=').map(|(id, _)| id.trim()))
        .filter_map(|id| {
            let pattern = b.get_message(id)?.value()?;
            let mut errors = vec![];
            Some((
                id.to_owned(),
                b.format_pattern(pattern, None, &mut errors).into_owned(),
            ))
        })
        .collect()
}

/// The text for `key` in `lang`; the key itself when missing (never panics).
pub fn text(lang: Lang, key: &str, args: Option<&FluentArgs>) -> String {
    let b = bundle(lang);
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        return key.to_owned();
    };
    let mut errors = vec![];
    b.format_pattern(pattern, args, &mut errors).into_owned()
}

fn lang_of(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::Bn)
}

fn t(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let mut args = FluentArgs::new();
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        let value = match v.as_i64() {
            Some(n) => FluentValue::from(n),
            None => FluentValue::from(v.to_string()),
        };
        args.set(name.to_owned(), value);
    }
    Ok(text(lang_of(state), key, Some(&args)))
}

/// Poisha as taka, in Bangla digits on Bangla pages.
fn taka(state: &State, amount: i64) -> String {
    digits(lang_of(state), chotomoni_domain::order::format_taka(amount))
}

/// An RFC 3339 time as Dhaka local time.
fn when(state: &State, at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            chotomoni_services::orders::local_time(t.timestamp_millis(), lang_of(state) == Lang::Bn)
        })
        .unwrap_or_default()
}

/// A Unix-millisecond time as Dhaka local time.
fn when_ms(state: &State, at: i64) -> String {
    chotomoni_services::orders::local_time(at, lang_of(state) == Lang::Bn)
}

fn num(state: &State, n: Value) -> String {
    digits(lang_of(state), n.to_string())
}

pub fn digits(lang: Lang, s: String) -> String {
    match lang {
        Lang::Bn => bangla_digits(s),
        Lang::En => s,
    }
}

pub fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        macro_rules! tpl {
            ($($name:literal),+ $(,)?) => {$(
                env.add_template($name, include_str!(concat!("../../templates/", $name)))
                    .expect("template parses");
            )+};
        }
        tpl!(
            "base.html",
            "error.html",
            "home.html",
            "checkout.html",
            "order_fields.html",
            "placed.html",
            "track.html",
            "staff_sign_in.html",
            "staff_orders.html",
            "staff_order.html",
            "staff_new.html",
            "slips.html",
            "privacy_data.html",
            "privacy_policy.html",
            "account_register.html",
            "account_sign_in.html",
            "account_orders.html",
            "account_order.html",
            "account_export.html",
            "account_email.html",
            "proof_list.html",
            "share.html",
            "unsubscribe.html",
            "privacy_diff.html",
            "staff_policy.html",
            "cookies.html",
            "privacy_request_form.html",
            "privacy_request_status.html",
            "staff_requests.html",
            "staff_jobs.html",
            "staff_claims.html",
            "staff_claim.html",
            "claims_mine.html",
            "refund_status.html",
            "track_claim.html",
            "staff_couriers.html",
            "courier_panel.html",
            "fraud_reason.html",
            "fraud_panel.html",
            "fraud_cell.html",
            "payment_result.html",
            "payment_panel.html",
            "staff_payments.html",
        );
        env.add_function("t", t);
        env.add_function("taka", taka);
        env.add_function("when", when);
        env.add_function("when_ms", when_ms);
        env.add_function("num", num);
        env
    })
}
