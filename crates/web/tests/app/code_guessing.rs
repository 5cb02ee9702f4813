//! Guessing one-time codes: wrong tries add up per phone over a day across
//! all its codes, for registration and for the public privacy form, on
//! both engines. Asking for a fresh code does not buy fresh guesses.
use crate::common;

use chotomoni_testkit::{both_engines, Engine};
use common::privacy::{code_in, confirm, place, submit};
use common::TestApp as App;

#[derive(Clone, Copy)]
enum Flow {
    Registration,
    PrivacyRequest,
}

impl Flow {
    /// Asks for a code for `phone` (local form) and returns it, read from the SMS.
    async fn ask(self, app: &App, phone: &str) -> String {
        let e164 = format!("+88{phone}");
        let before = common::privacy::sms_count(app, &e164);
        let status = match self {
            Flow::Registration => app
                .http
                .post(app.url("/account/register?lang=en"))
                .form(&[("step", "1"), ("phone", phone)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            Flow::PrivacyRequest => {
                submit(app, &[("kind", "access"), ("address", phone)])
                    .await
                    .0
            }
        };
        assert_eq!(status, 200);
        let sms = common::privacy::wait_for_sms(app, &e164, before + 1).await;
        code_in(&sms)
    }

    /// Tries `code`; true when it was taken.
    async fn try_code(self, app: &App, phone: &str, code: &str) -> (bool, String) {
        let (status, page) = match self {
            Flow::Registration => {
                let res = app
                    .http
                    .post(app.url("/account/register?lang=en"))
                    .form(&[
                        ("step", "2"),
                        ("phone", phone),
                        ("code", code),
                        ("name", "Rahima Begum"),
                        ("email", ""),
                        ("password", "mango season 2026"),
                    ])
                    .send()
                    .await
                    .unwrap();
                (res.status().as_u16(), common::html::text(res).await)
            }
            Flow::PrivacyRequest => {
                let (status, page, _) = confirm(app, "access", phone, code).await;
                (status, page)
            }
        };
        (status == 303, page)
    }
}

async fn capped(engine: Engine, flow: Flow) {
    let app = common::spawn_with_sms(engine).await;
    let (victim, other) = ("01711000701", "01711000702");
    place(&app, "Tania Sultana", victim).await;
    place(&app, "Karim Uddin", other).await;
    // Two codes, five wrong guesses each: ten, the day's allowance.
    for _ in 0..2 {
        let code = flow.ask(&app, victim).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let (taken, page) = flow.try_code(&app, victim, wrong).await;
            assert!(!taken && page.contains("not the code we sent"), "{page}");
        }
    }
    let fresh = flow.ask(&app, victim).await;
    let (taken, page) = flow.try_code(&app, victim, &fresh).await;
    assert!(
        !taken,
        "even the right code of a fresh one is refused today"
    );
    assert!(page.contains("too many times today"), "{page}");
    assert!(page.contains("role=\"alert\""));

    let code = flow.ask(&app, other).await;
    let (taken, page) = flow.try_code(&app, other, &code).await;
    assert!(taken, "another number is not affected: {page}");
}

async fn registration(engine: Engine) {
    capped(engine, Flow::Registration).await
}
both_engines!(
    registration_code_guesses_are_capped_per_number_per_day,
    super::registration
);

async fn privacy_request(engine: Engine) {
    capped(engine, Flow::PrivacyRequest).await
}
both_engines!(
    privacy_request_code_guesses_are_capped_per_number_per_day,
    super::privacy_request
);
