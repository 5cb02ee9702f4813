//! The OpenAPI document served at `/api/openapi.json`: the API router's own
//! description, plus the refusals every operation inherits from the
//! extractors and middleware it goes through, so that no handler has to
//! repeat them and none can forget them.
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};

/// The API's routes and their document.
pub fn api() -> (axum::Router<crate::AppState>, OpenApi) {
    let (router, mut doc) = crate::api::router().split_for_parts();
    for (path, item) in doc.paths.paths.iter_mut() {
        let api = path.starts_with("/api/");
        let reads = [&mut item.get, &mut item.head, &mut item.options];
        for op in reads.into_iter().flatten() {
            add_refusals(op, false);
        }
        let writes = [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in writes.into_iter().flatten() {
            add_refusals(op, api);
        }
    }
    (router, doc)
}

/// What `json::Json`, `extract::{Path, Query}` and `origin::same_origin_only`
/// answer, where the operation goes through them. A handler's own
/// description of the same status is kept.
fn add_refusals(op: &mut Operation, same_origin_checked: bool) {
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    if json_body {
        refusal(op, 400, "The body is not valid JSON (`malformed_json`)");
        refusal(op, 413, "The body is larger than 256 KiB (`too_large`)");
        refusal(
            op,
            415,
            "The body is not sent as application/json (`unsupported_media_type`)",
        );
    }
    let typed_params = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
    if json_body || typed_params {
        refusal(
            op,
            422,
            "A field or parameter is missing, unknown or invalid (`invalid_field`, naming it in `field`)",
        );
    }
    if same_origin_checked {
        refusal(
            op,
            403,
            "A browser's cross-site request, refused (`cross_site`); a bearer token is never refused so",
        );
    }
}

fn refusal(op: &mut Operation, status: u16, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
                .into()
        });
}

/// The document as committed in `docs/openapi.json`: pretty-printed, keys
/// sorted, so a change reads as a small diff in review.
pub fn pretty(doc: &OpenApi) -> String {
    let value = serde_json::to_value(doc).expect("the document serialises");
    let mut text = serde_json::to_string_pretty(&sorted(value)).expect("JSON serialises");
    text.push('\n');
    text
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    /// The API's contract changes only in review: any change to the
    /// generated document must come with the committed file's diff.
    /// `UPDATE_OPENAPI=1 cargo test -p chotomoni-web --lib openapi` rewrites it.
    #[test]
    fn the_document_is_the_committed_one() {
        let generated = pretty(&api().1);
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(COMMITTED, &generated).expect("docs/openapi.json is writable");
            return;
        }
        let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
        if committed == generated {
            return;
        }
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        let around = |text: &str| {
            text.lines()
                .enumerate()
                .skip(first.saturating_sub(3))
                .take(7)
                .map(|(n, l)| format!("{:>6} {l}", n + 1))
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "the OpenAPI document differs from docs/openapi.json from line {}:\n\
             --- committed\n{}\n+++ generated\n{}\n\
             If the change is meant, run `UPDATE_OPENAPI=1 cargo test -p chotomoni-web --lib openapi` \
             and review `git diff docs/openapi.json`.",
            first + 1,
            around(&committed),
            around(&generated),
        );
    }
}
