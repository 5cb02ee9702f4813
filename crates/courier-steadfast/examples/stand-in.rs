//! Runs the Steadfast stand-in on a local port until Ctrl-C and prints the
//! settings that point a Chotomoni server at it: for trying couriers (and
//! their webhooks) without a Steadfast account.
//!
//! `cargo run -p chotomoni-courier-steadfast --features stand-in --example stand-in`
#[tokio::main]
async fn main() {
    let s = chotomoni_courier_steadfast::stand_in::StandIn::start().await;
    println!("export CHOTOMONI_STEADFAST_BASE_URL={}", s.base_url);
    println!("export CHOTOMONI_STEADFAST_API_KEY={}", s.api_key);
    println!("export CHOTOMONI_STEADFAST_SECRET_KEY={}", s.secret_key);
    println!(
        "export CHOTOMONI_STEADFAST_WEBHOOK_TOKEN={}",
        s.webhook_token
    );
    println!("export CHOTOMONI_COURIER_DEFAULT=steadfast");
    eprintln!("the Steadfast stand-in is listening; Ctrl-C stops it");
    tokio::signal::ctrl_c().await.expect("waiting for Ctrl-C");
}
