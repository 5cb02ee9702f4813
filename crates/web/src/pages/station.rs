//! `/station`: the packing station, for staff who record proof. The page is
//! a shell (`templates/station.html`) with one JSON config block: where to
//! upload and look orders up, the video settings and every `station-`
//! message in the page's language. Its script and styles are served from
//! the binary by `crate::assets`.
use super::{i18n, Ctx, PageError};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::staff::Permission;
use chotomoni_services::Actor;
use minijinja::{context, Environment, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Where the page's static files are served (see `crate::assets`).
pub const ASSETS: &str = "/assets";
/// Where a stranger is sent: the staff sign-in, coming back here after.
const SIGN_IN: &str = "/staff/sign-in?next=/station";

/// What the station's camera records at (`WebConfig::station_video`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StationVideo {
    pub width: u32,
    pub height: u32,
    pub bits_per_second: u32,
}

/// 720p at about 1 Mbit/s: a packing clip stays small on a shop's uplink.
impl Default for StationVideo {
    fn default() -> Self {
        StationVideo {
            width: 1280,
            height: 720,
            bits_per_second: 1_000_000,
        }
    }
}

/// The page's config block, as `assets/station/i18n.js` reads it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StationConfig {
    lang: &'static str,
    upload_endpoint: &'static str,
    lookup: &'static str,
    sign_in: String,
    video: StationVideo,
    strings: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
pub struct StationQuery {
    /// Set by the sign-in's redirect: no session now means no cookie came back.
    #[serde(default)]
    signed_in: Option<String>,
}

pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(q): Query<StationQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang.code();
    let actor = ctx.caller.actor();
    match actor {
        Actor::Staff { .. } if actor.staff_may(Permission::UploadProof) => {}
        Actor::Staff { .. } => return Err(ctx.error(StatusCode::FORBIDDEN, "station-forbidden")),
        _ if q.signed_in.is_some() => {
            return Err(ctx.redirect(format!("{SIGN_IN}&nocookie=1&lang={lang}")))
        }
        _ => return Err(ctx.redirect(format!("{SIGN_IN}&lang={lang}"))),
    }
    let config = StationConfig {
        lang,
        upload_endpoint: "/api/v1/uploads/",
        lookup: "/api/v1/orders/by-code/",
        sign_in: format!("{SIGN_IN}&lang={lang}"),
        video: state.config.station_video,
        strings: i18n::station_strings(ctx.lang),
    };
    let html = render(&config).map_err(|e| {
        tracing::error!(error = %e, "the station page did not render");
        ctx.error(StatusCode::INTERNAL_SERVER_ERROR, "err-generic")
    })?;
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(html),
    )
        .into_response())
}

fn render(config: &StationConfig) -> Result<String, minijinja::Error> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("station.html", include_str!("../../templates/station.html"))
            .expect("template parses");
        env
    });
    let json = serde_json::to_string(config).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
    })?;
    env.get_template("station.html")?.render(context! {
        assets => Value::from_safe_string(ASSETS.to_owned()),
        config_json => Value::from_safe_string(script_json(&json)),
    })
}

/// JSON that is safe inside `<script>`: no `<`, `>` or `&` can end the
/// element or start a comment; JSON parsers read the escapes back.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `next` if it is a path on this site (`/…`, not `//host` or `/\host`),
/// printable ASCII only; anything else is dropped, so a sign-in link cannot
/// send anyone elsewhere.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 512
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(next)
}

/// Where a sign-in goes next: `next` with the sign-in flag and language.
pub fn after_sign_in(next: &str, lang: Lang) -> String {
    let sep = if next.contains('?') { '&' } else { '?' };
    format!("{next}{sep}signed_in=1&lang={}", lang.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/station"), Some("/station"));
        assert_eq!(
            local_path("/staff/orders?status=placed"),
            Some("/staff/orders?status=placed")
        );
        for bad in [
            "",
            "station",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "/a b",
            "/\n",
            "/ক",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(
            after_sign_in("/station", Lang::En),
            "/station?signed_in=1&lang=en"
        );
        assert_eq!(
            after_sign_in("/x?a=1", Lang::Bn),
            "/x?a=1&signed_in=1&lang=bn"
        );
    }

    #[test]
    fn config_json_cannot_close_the_script_element() {
        let s = script_json(r#"{"s":"</script><!--&"}"#);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["s"], "</script><!--&");
    }
}
