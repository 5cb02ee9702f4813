//! Cookie choice, on both engines: necessary only until the visitor says
//! otherwise; the choice is recorded and can be changed from every page's
//! footer; the one optional cookie (the remembered language) is set only
//! when functional cookies are allowed.
use crate::common;

use chotomoni_testkit::{both_engines, Engine};
use common::TestApp;

struct Answer {
    status: u16,
    set_cookies: Vec<String>,
    body: String,
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Answer {
    let mut req = app.http.get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    answer(req.send().await.unwrap()).await
}

async fn choose(
    app: &TestApp,
    functional: bool,
    origin: Option<&str>,
    token: Option<&str>,
) -> Answer {
    let mut form = vec![("back", "/")];
    if functional {
        form.push(("functional", "1"));
    }
    let mut req = app.http.post(app.url("/privacy/cookies")).form(&form);
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    answer(req.send().await.unwrap()).await
}

async fn answer(res: reqwest::Response) -> Answer {
    Answer {
        status: res.status().as_u16(),
        set_cookies: res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect(),
        body: res.text().await.unwrap(),
    }
}

/// `name=value` of the cookie named `name` among `set`.
fn pair(set: &[String], name: &str) -> Option<String> {
    set.iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

async fn choices(engine: Engine) {
    let app = common::spawn(engine).await;
    // Nothing chosen: no cookie at all, a banner, and the footer link.
    let first = get(&app, "/?lang=en", None).await;
    assert_eq!(first.status, 200);
    assert!(first.set_cookies.is_empty(), "{:?}", first.set_cookies);
    assert!(
        first.body.contains("Necessary only")
            && first.body.contains("href=\"/privacy/cookies?lang=en\"")
    );

    // "Necessary only": recorded, remembered, and still no optional cookie.
    let necessary = choose(&app, false, None, None).await;
    assert_eq!(necessary.status, 303);
    let choice = pair(&necessary.set_cookies, "cm_cookies").expect("the choice is remembered");
    assert!(choice.ends_with(".00"), "{choice}");
    let page = get(&app, "/?lang=en", Some(&choice)).await;
    assert!(
        page.set_cookies.is_empty(),
        "no language cookie without consent"
    );
    assert!(
        !page.body.contains("Necessary only"),
        "no banner once chosen"
    );

    // Functional allowed: the language is remembered in `cm_lang`.
    let functional = choose(&app, true, Some(&app.base), None).await;
    let choice = pair(&functional.set_cookies, "cm_cookies").unwrap();
    assert!(choice.ends_with(".10"));
    let switched = get(&app, "/?lang=en", Some(&choice)).await;
    let lang = pair(&switched.set_cookies, "cm_lang").expect("the functional cookie");
    assert_eq!(lang, "cm_lang=en");
    let later = get(&app, "/", Some(&format!("{choice}; {lang}"))).await;
    assert!(
        later.body.contains("<html lang=\"en\">"),
        "remembered language"
    );
    // Withdrawn again: the language cookie is removed and no longer counts.
    let withdrawn = choose(&app, false, None, None).await;
    assert!(withdrawn
        .set_cookies
        .iter()
        .any(|c| c.starts_with("cm_lang=;") && c.contains("Max-Age=0")));
    let choice = pair(&withdrawn.set_cookies, "cm_cookies").unwrap();
    let after = get(&app, "/", Some(&format!("{choice}; {lang}"))).await;
    assert!(after.body.contains("<html lang=\"bn\">"));

    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT functional, analytics FROM cookie_choices ORDER BY at, id")
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 3);
    // Another site cannot make the choice for the visitor.
    let forged = choose(&app, true, Some("https://evil.example"), None).await;
    assert_eq!(forged.status, 403);
    assert_eq!(app.count("cookie_choices").await, 3);
}
both_engines!(choices, super::choices);

/// A signed-in customer's choice also goes to their consent ledger.
async fn customers_choices_reach_the_ledger(engine: Engine) {
    let app = common::spawn(engine).await;
    app.post(
        "/api/v1/orders",
        None,
        &common::order_body("Mitu Rahman", "01711000555"),
    )
    .await;
    let (id, token, _) = app.first_customer_session().await;
    assert_eq!(choose(&app, true, None, Some(&token)).await.status, 303);
    let ledger: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT purpose, granted, channel FROM consents WHERE customer_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(
        ledger,
        vec![
            ("functional_cookies".into(), 1, "cookie_settings".into()),
            ("analytics_cookies".into(), 0, "cookie_settings".into())
        ]
    );
}
both_engines!(
    customers_choices_reach_the_ledger,
    super::customers_choices_reach_the_ledger
);
