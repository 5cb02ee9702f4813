//! Login CSRF and its kin: a page on another site posts to our sign-in,
//! registration and privacy forms with no session yet. The server refuses
//! what the browser marks as cross-site and serves the same forms from our
//! own pages, on both engines.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::TestApp as App;
use reqwest::StatusCode;

/// The forms that change something without a session, with valid fields.
fn forms() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "/staff/sign-in?lang=en",
            vec![("username", "mitu"), ("password", "a long enough password")],
        ),
        (
            "/account/sign-in?lang=en",
            vec![("phone", "01712345678"), ("password", "mango season 2026")],
        ),
        (
            "/account/register?lang=en",
            vec![("step", "1"), ("phone", "01712345678")],
        ),
        (
            "/privacy/requests?lang=en",
            vec![
                ("step", "1"),
                ("kind", "access"),
                ("address", "01712345678"),
            ],
        ),
    ]
}

async fn post(app: &App, path: &str, form: &[(&str, &str)], header: (&str, &str)) -> StatusCode {
    app.http
        .post(app.url(path))
        .header(header.0, header.1)
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
}

async fn refused_from_elsewhere(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    app.services
        .add_staff("mitu", "a long enough password", Role::Admin)
        .await
        .unwrap();
    for (path, form) in forms() {
        for header in [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let status = post(&app, path, &form, header).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} with {header:?}");
        }
    }
    assert_eq!(app.count("sessions").await, 0, "nobody was signed in");
    assert_eq!(
        app.count("phone_verifications").await,
        0,
        "no code was sent"
    );
    assert_eq!(app.count("request_codes").await, 0);
    assert_eq!(
        app.count("sign_in_attempts").await,
        0,
        "no allowance was spent"
    );

    let origin = app.base.clone();
    for (path, form) in forms() {
        let status = post(&app, path, &form, ("origin", &origin)).await;
        assert_ne!(status, StatusCode::FORBIDDEN, "{path} from our own page");
        let status = post(&app, path, &form, ("sec-fetch-site", "same-origin")).await;
        assert_ne!(status, StatusCode::FORBIDDEN, "{path} from our own page");
    }
    assert!(
        app.count("sessions").await > 0,
        "the staff member signed in"
    );
    assert!(app.count("phone_verifications").await > 0);
    assert!(app.count("request_codes").await > 0);
}
both_engines!(
    cross_site_posts_without_a_session_are_refused,
    super::refused_from_elsewhere
);
