//! `SIM_SERVE_SECS=600 SIM_PLATFORM=openshift cargo test --test sim_serve -- --ignored --nocapture`
//! serves a simulated cluster by hand (writes /tmp/sim-kubeconfig) for manual kubectl sessions.
mod sim_support;

#[tokio::test]
#[ignore]
async fn serve_by_hand() {
    let secs: u64 = std::env::var("SIM_SERVE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let platform = std::env::var("SIM_PLATFORM")
        .unwrap_or("openshift".into())
        .parse()
        .unwrap();
    let faults = std::env::var("SIM_FAULTS").unwrap_or_default();
    let h = sim_support::start(platform, 10.0, &faults, true).await;
    h.write_kubeconfig(std::path::Path::new("/tmp/sim-kubeconfig"), "sim")
        .unwrap();
    println!("serving {} for {secs}s, kubeconfig /tmp/sim-kubeconfig", h.url());
    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    h.shutdown().await;
}
