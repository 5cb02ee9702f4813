use super::*;
use std::collections::HashMap;

#[test]
fn layers_in_order() {
    let dir = tempfile_dir();
    let file = dir.join("c.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:1\"\nsession_days = 3\ntechnical_retention_days = 30\n\
         station_video_width = 640\nstation_video_height = 480\ns3_bucket = \"proofs\"\n\
         s3_access_key_id = \"AKID\"\n",
    )
    .unwrap();
    let env: HashMap<&str, &str> = [
        ("CHOTOMONI_TECHNICAL_RETENTION_DAYS", "60"),
        ("DATABASE_URL", "postgres://u:secret@h/db"),
        ("CHOTOMONI_SMS_AUTH_TOKEN", "sms-token-secret"),
        ("CHOTOMONI_STATION_VIDEO_HEIGHT", "360"),
        ("CHOTOMONI_S3_SECRET_ACCESS_KEY", "s3-secret"),
    ]
    .into();
    let get = |k: &str| env.get(k).map(|v| v.to_string());
    let c = load(Some(&file), &Overrides::default(), &get).unwrap();
    assert_eq!(
        (
            c.listen.as_str(),
            c.session_days,
            c.technical_retention_days
        ),
        ("0.0.0.0:1", 3, 60)
    );
    let c = load(
        Some(&file),
        &Overrides {
            listen: Some("127.0.0.1:2".into()),
            data_dir: None,
        },
        &get,
    )
    .unwrap();
    assert_eq!(c.listen, "127.0.0.1:2");
    assert_eq!(
        (
            c.station_video_width,
            c.station_video_height,
            c.station_video_bits_per_second
        ),
        (640, 360, 1_000_000)
    );
    match c.blob_config().unwrap() {
        chotomoni_storage::blobs::BlobConfig::S3 {
            bucket,
            secret_access_key,
            ..
        } => {
            assert_eq!(
                (bucket.as_str(), secret_access_key.as_str()),
                ("proofs", "s3-secret")
            )
        }
        other => panic!("expected S3, got {other:?}"),
    }
    assert!(!format!("{c:?}").contains("secret"));
    assert_eq!(c.sms_auth_token.as_deref(), Some("sms-token-secret"));
    let c = load(None, &Overrides::default(), &|_| None).unwrap();
    assert_eq!(c.database_url, "sqlite://./chotomoni-data/chotomoni.db");
    assert!(matches!(
        c.blob_config().unwrap(),
        chotomoni_storage::blobs::BlobConfig::Local { root } if root.ends_with("chotomoni-data/media")
    ));
    std::fs::write(&file, "lisen = 1").unwrap();
    assert!(load(Some(&file), &Overrides::default(), &|_| None).is_err());
}

#[test]
fn mail_settings_layer_and_the_smtp_password_comes_only_from_the_environment() {
    let dir = tempfile_dir();
    let file = dir.join("mail.toml");
    std::fs::write(
        &file,
        "public_url = \"https://shop.example/\"\nmail_transport = \"smtp\"\n\
         smtp_url = \"smtps://shop@mail.example\"\nmail_from = \"Chotomoni <shop@example.com>\"\n",
    )
    .unwrap();
    let env: HashMap<&str, &str> = [
        ("CHOTOMONI_SMTP_PASSWORD", "smtp-pass-secret"),
        ("CHOTOMONI_MAIL_FROM", "shop@chotomoni.test"),
    ]
    .into();
    let get = |k: &str| env.get(k).map(|v| v.to_string());
    let c = load(Some(&file), &Overrides::default(), &get).unwrap();
    assert_eq!(c.public_url.as_deref(), Some("https://shop.example"));
    assert_eq!(c.mail_transport.as_deref(), Some("smtp"));
    assert_eq!(c.smtp_url.as_deref(), Some("smtps://shop@mail.example"));
    assert_eq!(c.mail_from.as_deref(), Some("shop@chotomoni.test"));
    assert_eq!(c.smtp_password.as_deref(), Some("smtp-pass-secret"));
    assert!(!format!("{c:?}").contains("smtp-pass-secret"));
    std::fs::write(&file, "smtp_password = \"in the file\"\n").unwrap();
    assert!(
        load(Some(&file), &Overrides::default(), &|_| None).is_err(),
        "no password in the configuration file"
    );
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("cm-config-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn rate_limits_and_trusted_proxies_layer() {
    let dir = tempfile_dir();
    let file = dir.join("limits.toml");
    std::fs::write(
        &file,
        "trusted_proxies = [\"10.0.0.0/8\"]\n[rate_limits]\nsign_in_per_address = 50\ntrack_per_order = 3\n",
    )
    .unwrap();
    let env: HashMap<&str, &str> = [("CHOTOMONI_RATE_LIMIT_TRACK_PER_ORDER", "4")].into();
    let get = |k: &str| env.get(k).map(|v| v.to_string());
    let c = load(Some(&file), &Overrides::default(), &get).unwrap();
    assert_eq!(
        (
            c.rate_limits.sign_in_per_address,
            c.rate_limits.track_per_order
        ),
        (50, 4)
    );
    assert_eq!(c.rate_limits.sign_in_per_account_address, 5, "default");
    let ip = |s: &str| s.parse().unwrap();
    assert!(c.trusted_proxies.contains(ip("10.2.3.4")));
    assert!(
        !c.trusted_proxies.contains(ip("127.0.0.1")),
        "the list replaces loopback"
    );
    let c = load(None, &Overrides::default(), &|_| None).unwrap();
    assert!(c.trusted_proxies.contains(ip("127.0.0.1")));
    let bad = |k: &str| (k == "CHOTOMONI_TRUSTED_PROXIES").then(|| "10.0.0.0/40".to_owned());
    assert!(load(None, &Overrides::default(), &bad).is_err());
    std::fs::write(&file, "[rate_limits]\nsign_in_per_adress = 1\n").unwrap();
    assert!(load(Some(&file), &Overrides::default(), &|_| None).is_err());
}

#[test]
fn the_job_schedule_is_configured_by_name() {
    use chotomoni_domain::JobKind;
    use std::time::Duration;
    let dir = tempfile_dir();
    let file = dir.join("jobs.toml");
    std::fs::write(
        &file,
        "[jobs]\nworkers = 3\nlease_seconds = 30\noff = [\"sweep.uploads\"]\n\
         [jobs.every_seconds]\n\"privacy.scan\" = 15\n",
    )
    .unwrap();
    let none = |_: &str| None;
    let c = load(Some(&file), &Overrides::default(), &none).unwrap();
    assert_eq!(c.jobs.workers, 3);
    assert_eq!(c.jobs.lease, Duration::from_secs(30));
    let of = |k: JobKind| {
        c.jobs
            .schedule
            .iter()
            .find(|r| r.kind == k)
            .unwrap()
            .clone()
    };
    assert!(!of(JobKind::SweepUploads).enabled);
    assert!(of(JobKind::SweepTechnical).enabled);
    assert_eq!(of(JobKind::PrivacyScan).period, Duration::from_secs(15));
    // The environment's off switch replaces the file's list.
    let env = |k: &str| (k == "CHOTOMONI_JOBS_OFF").then(|| "sweep.jobs, privacy.scan".to_owned());
    let c = load(Some(&file), &Overrides::default(), &env).unwrap();
    let off: Vec<_> = c
        .jobs
        .schedule
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.kind)
        .collect();
    assert_eq!(off, [JobKind::PrivacyScan, JobKind::SweepJobs]);

    // A name that is not a recurring job, no workers, a period of 0: refused, saying why.
    for (toml, says) in [
        (
            "[jobs]\noff = [\"export.build\"]\n",
            "is not a recurring job",
        ),
        ("[jobs]\noff = [\"sweep.everything\"]\n", "sweep.technical"),
        ("[jobs]\nworkers = 0\n", "at least 1"),
        ("[jobs.every_seconds]\n\"sweep.jobs\" = 0\n", "jobs.off"),
        ("[jobs]\nlease_seconds = 1\n", "at least 3"),
    ] {
        std::fs::write(&file, toml).unwrap();
        let err = match load(Some(&file), &Overrides::default(), &none) {
            Ok(_) => panic!("{toml} was accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(says), "{toml}: {err}");
    }
}

#[test]
fn a_sign_in_lasts_no_longer_than_the_catalog_keeps_sessions() {
    let get =
        |v: &'static str| move |k: &str| (k == "CHOTOMONI_SESSION_DAYS").then(|| v.to_owned());
    let c = load(None, &Overrides::default(), &get("30")).unwrap();
    assert_eq!(c.session_days, 30);
    for bad in ["31", "0"] {
        match load(None, &Overrides::default(), &get(bad)) {
            Ok(_) => panic!("session_days = {bad} was accepted"),
            Err(e) => assert!(format!("{e:#}").contains("session_days"), "{e:#}"),
        }
    }
}

#[test]
fn proof_periods_are_read_and_outlive_the_claim_window() {
    let dir = tempfile_dir();
    let file = dir.join("proofs.toml");
    let none = |_: &str| None;
    std::fs::write(&file, "[proofs]\npacking_days = 90\nreturn_days = 30\n").unwrap();
    let c = load(Some(&file), &Overrides::default(), &none).unwrap();
    assert_eq!(
        (
            c.proof_days.packing,
            c.proof_days.delivery,
            c.proof_days.returned
        ),
        (90, 60, 30)
    );
    // Kept less than a customer may claim: refused, naming both settings.
    std::fs::write(
        &file,
        "[claims]\nwindow_days = 14\n[proofs]\ndelivery_days = 10\n",
    )
    .unwrap();
    let err = match load(Some(&file), &Overrides::default(), &none) {
        Ok(_) => panic!("delivery proof kept shorter than the claim window was accepted"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("proofs.delivery_days") && err.contains("window_days (14)"),
        "{err}"
    );
}

#[test]
fn couriers_are_configured_from_the_file_and_environment_and_never_print_secrets() {
    let dir = tempfile_dir();
    let file = dir.join("couriers.toml");
    std::fs::write(
        &file,
        "[couriers]\ndefault = \"steadfast\"\nsilent_after_hours = 3\n\
         [couriers.by_district]\nChattogram = \"redx\"\n\
         [couriers.steadfast]\napi_key = \"sf-key\"\nbase_url = \"https://sandbox.example/api/v1/\"\n\
         [couriers.redx]\npickup_store_id = 42\n",
    )
    .unwrap();
    let env: HashMap<&str, &str> = [
        ("CHOTOMONI_STEADFAST_SECRET_KEY", "sf-secret-value"),
        ("CHOTOMONI_STEADFAST_WEBHOOK_TOKEN", "sf-webhook-value"),
        ("CHOTOMONI_REDX_ACCESS_TOKEN", "redx-token-value"),
        ("CHOTOMONI_REDX_WEBHOOK_TOKEN", "redx-webhook-value"),
    ]
    .into();
    let get = |k: &str| env.get(k).map(|v| v.to_string());
    let c = load(Some(&file), &Overrides::default(), &get).unwrap();
    let sf = c.couriers.steadfast.as_ref().unwrap();
    assert_eq!(sf.secret_key, "sf-secret-value");
    assert_eq!(sf.base_url, "https://sandbox.example/api/v1");
    assert_eq!(c.couriers.redx.as_ref().unwrap().pickup_store_id, Some(42));
    assert!(c.couriers.pathao.is_none());
    assert_eq!(c.couriers.silent_after_hours, 3);
    assert_eq!(
        c.couriers.by_district,
        [("Chattogram".to_owned(), chotomoni_domain::CourierName::Redx)]
    );
    let set = c.couriers.set().unwrap();
    assert_eq!(
        set.default_for("chattogram"),
        Some(chotomoni_domain::CourierName::Redx)
    );
    assert_eq!(
        set.default_for("Sylhet"),
        Some(chotomoni_domain::CourierName::Steadfast)
    );
    let printed = format!("{c:?} {:?}", c.couriers);
    for secret in [
        "sf-key",
        "sf-secret-value",
        "sf-webhook-value",
        "redx-token-value",
        "redx-webhook-value",
    ] {
        assert!(!printed.contains(secret), "{secret} printed: {printed}");
    }

    // Half a courier names what is missing, never a value.
    let half: HashMap<&str, &str> = [("CHOTOMONI_PATHAO_CLIENT_ID", "pathao-id-value")].into();
    let get = |k: &str| half.get(k).map(|v| v.to_string());
    let err = load(None, &Overrides::default(), &get)
        .unwrap_err()
        .to_string();
    assert!(err.contains("couriers.pathao.client_secret"), "{err}");
    assert!(!err.contains("pathao-id-value"), "{err}");

    // A default that is not configured, and a courier that does not exist.
    for (toml, key) in [
        ("[couriers]\ndefault = \"pathao\"\n", "couriers.default"),
        (
            "[couriers.by_district]\nDhaka = \"dhl\"\n",
            "couriers.by_district.Dhaka",
        ),
        (
            "[couriers.steadfast]\napi_kee = \"x\"\n",
            "couriers.steadfast.api_kee",
        ),
    ] {
        std::fs::write(&file, toml).unwrap();
        let err = load(Some(&file), &Overrides::default(), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
}
