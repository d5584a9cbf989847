//! Sandbox mode: dev keys and a demo tenant appear by themselves, on loopback only.

use zktx_server::{start, ServerConfig, ServerError};

fn sandbox_config(data: &std::path::Path) -> ServerConfig {
    ServerConfig {
        data_dir: data.to_path_buf(),
        grpc_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        sandbox: true,
        ..ServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_sandbox_has_dev_keys_and_a_working_demo_key_that_persists() {
    let data = tempfile::tempdir().unwrap();
    let server = start(sandbox_config(data.path())).await.unwrap();
    assert_eq!(server.generated_tiers, [16, 64]);
    let key = server.sandbox_api_key.clone().unwrap();
    let circuits: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{}/v1/circuits", server.http_addr))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tiers: Vec<u64> = circuits
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tier"].as_u64().unwrap())
        .collect();
    assert_eq!(tiers, [16, 64]);
    assert!(circuits[0]["dev_keys"].as_bool().unwrap());
    server.shutdown().await;

    // A restart reuses the keys and the demo key; the store keeps only its hash.
    let again = start(sandbox_config(data.path())).await.unwrap();
    assert!(again.generated_tiers.is_empty());
    assert_eq!(again.sandbox_api_key.as_deref(), Some(key.as_str()));
    again.shutdown().await;
    let db = std::fs::read(data.path().join("zktx.db")).unwrap();
    assert!(
        !db.windows(key.len()).any(|w| w == key.as_bytes()),
        "no API key in the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_refuses_to_listen_beyond_loopback() {
    let data = tempfile::tempdir().unwrap();
    let mut config = sandbox_config(data.path());
    config.http_addr = "0.0.0.0:0".parse().unwrap();
    match start(config).await {
        Err(ServerError::Sandbox(message)) => assert!(message.contains("loopback"), "{message}"),
        Err(other) => panic!("expected a sandbox refusal, got {other}"),
        Ok(_) => panic!("a sandbox must not listen on 0.0.0.0"),
    }
}
