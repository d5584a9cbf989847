//! The load generator against a real server (tier 4 dev keys, loopback):
//! every transport gets every kind of the mix answered as it must be; and
//! malformed messages get statuses about the request (`malformed`).

mod malformed;

use std::sync::Arc;
use std::time::Duration;

use zktx_circuits::Tier;
use zktx_formats::KeyDir;
use zktx_loadtest::calibrate;
use zktx_loadtest::client::{Client, Target, Transport};
use zktx_loadtest::driver::{Driver, Limits, Pace};
use zktx_loadtest::fixtures::FixtureCache;
use zktx_loadtest::material::{self, Shape, TenantKeys};
use zktx_loadtest::mix::Mix;
use zktx_loadtest::report::Objectives;
use zktx_prover::{generate_keys, KeySource};
use zktx_server::config::{Plan, ServerConfig, TenantConfig};
use zktx_server::tenants::{hash_api_key, new_api_key};

fn plan(daily_proofs: u64) -> Plan {
    Plan {
        requests_per_second: 100_000,
        burst: 100_000,
        daily_proofs,
        max_batch: 8,
        tiers: None,
        edition: None,
    }
}

fn tenant(id: &str, plan: &str, key: &str) -> TenantConfig {
    TenantConfig {
        id: id.into(),
        plan: plan.into(),
        api_key_sha256: vec![hex::encode(hash_api_key(key))],
    }
}

/// Tier 4 dev keys from `seed`, under `dir`.
fn tier4_keys(dir: &std::path::Path, seed: &str) -> (Tier, KeyDir) {
    let tier = Tier::new(4).unwrap();
    let keys = KeyDir::new(dir.join("keys"));
    keys.write(&generate_keys(tier, &KeySource::DevSeed(seed.into())).unwrap())
        .unwrap();
    (tier, keys)
}

/// A server configuration on ephemeral loopback ports, its store under `dir`.
fn loopback_config(dir: &std::path::Path, keys: &KeyDir) -> ServerConfig {
    ServerConfig {
        data_dir: dir.join("data"),
        keys_dir: Some(keys.root().to_path_buf()),
        grpc_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_gets_the_whole_mix_answered_as_it_must() {
    let dir = tempfile::tempdir().unwrap();
    let (tier, keys) = tier4_keys(dir.path(), "loadtest-it");
    let load_keys: Vec<String> = (0..4).map(|_| new_api_key()).collect();
    let capped = new_api_key();
    let mut config = loopback_config(dir.path(), &keys);
    config.plans.insert("load".into(), plan(1_000_000));
    config.plans.insert("capped".into(), plan(0));
    config.tenants = load_keys
        .iter()
        .enumerate()
        .map(|(i, k)| tenant(&format!("load-{i}"), "load", k))
        .collect();
    config.tenants.push(tenant("capped", "capped", &capped));
    let server = zktx_server::start(config).await.unwrap();
    let target = Target::loopback(server.grpc_addr, server.http_addr).unwrap();

    let cache = FixtureCache::new(dir.path().join("fixtures"));
    let tenants = TenantKeys {
        load: load_keys.clone(),
        capped: Some(capped),
    };
    let material = tokio::task::block_in_place(|| {
        material::build(
            &cache,
            &keys,
            tier,
            6,
            tenants.clone(),
            Shape::for_proofs(24, 6),
        )
    })
    .unwrap();
    let material = Arc::new(material);
    // The second build reads the cache instead of proving again.
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);

    // What this machine verifies directly, for the reports' ratios.
    let calibration = tokio::task::block_in_place(|| {
        calibrate::direct_batch_rate(&keys, &material.proofs[0], Duration::from_millis(200))
    })
    .unwrap();
    assert!(calibration.proofs_per_sec > 0.0 && calibration.proofs > 0);
    let mut tampered = material.proofs[0].clone();
    tampered[0].inputs.k += 1;
    assert!(calibrate::direct_batch_rate(&keys, &tampered, Duration::ZERO).is_err());

    let mix: Mix =
        "valid=4,invalid=2,malformed=2,garbled=2,repeated=2,oversized=1,over-quota=2,disconnect=1"
            .parse()
            .unwrap();
    for transport in [
        Transport::Unary,
        Transport::Batch(3),
        Transport::Stream,
        Transport::Rest,
    ] {
        let client = Arc::new(
            Client::connect(target, 2, transport, &load_keys)
                .await
                .unwrap(),
        );
        assert_eq!(client.max_batch(&load_keys[0]).await.unwrap(), 8);
        let driver = Driver::new(client, material.clone(), transport, mix.clone(), 8)
            .with_direct_rate(calibration.proofs_per_sec);
        let limits = Limits {
            duration: Duration::from_secs(5),
            max_calls: 80,
            call_timeout: Duration::from_secs(30),
        };
        let report = driver
            .run(
                &transport.to_string(),
                Pace::Open { rate: 100.0 },
                limits,
                false,
            )
            .await;
        assert_eq!(report.calls, 80, "{transport}");
        // Every run states its costs and its rate against the direct verifier.
        assert!(report.client_cpu_us_per_call.is_some(), "{transport}");
        assert!(report.server_cpu_us_per_proof.is_some(), "{transport}");
        assert!(report.ratio_to_direct.is_some(), "{transport}");
        assert_eq!(report.wrong_answers, 0, "{transport}: {:?}", report.answers);
        assert_eq!(report.server_faults, 0, "{transport}: {:?}", report.answers);
        for kind in [
            "valid",
            "invalid",
            "malformed",
            "garbled",
            "oversized",
            "over-quota",
        ] {
            assert!(
                report.answers.contains_key(kind),
                "{transport}: no {kind} in {:?}",
                report.answers
            );
        }
        assert!(
            report.server_cpu.is_some_and(|c| c > 0.0),
            "{transport}: {:?} {:?}",
            report.server_before,
            report.server_after
        );
        // Disconnected callers leave nothing queued.
        assert_eq!(report.server_after.unwrap().queue_depth, 0.0);
        let strict = Objectives {
            p99_ms: Some(0.001),
            ..Objectives::default()
        };
        assert_eq!(strict.missed(&report).len(), 1);
    }
    // The stream run opened one stream for every load tenant.
    let metrics = reqwest::get(format!("http://{}/metrics", server.http_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let streams = format!(
        "zktx_requests_total{{code=\"OK\",method=\"grpc.VerifyStream\"}} {}",
        load_keys.len()
    );
    assert!(metrics.contains(&streams), "no `{streams}` in\n{metrics}");

    // Closed loop, valid proofs only.
    let client = Arc::new(
        Client::connect(target, 1, Transport::Unary, &[])
            .await
            .unwrap(),
    );
    let driver = Driver::new(client, material, Transport::Unary, Mix::valid_only(), 8);
    let limits = Limits {
        duration: Duration::from_secs(5),
        max_calls: 30,
        call_timeout: Duration::from_secs(30),
    };
    let report = driver
        .run("closed", Pace::Closed { callers: 3 }, limits, false)
        .await;
    assert_eq!(report.calls, 30);
    // The 24 fresh (tenant, statement) pairs were used up above: the rest are replays.
    let valid = &report.answers["valid"];
    assert_eq!(valid.values().sum::<u64>(), 30, "{valid:?}");
    assert_eq!(
        valid.get("valid (replay)").copied().unwrap_or(0),
        report.replays
    );
    assert_eq!(report.error_rate, 0.0);
    let data = server.config.data_dir.clone();
    server.shutdown().await;
    bills_exactly(&data);
}

/// The month's invoices of the load just run match the receipts, tenant by
/// tenant: every receipt (valid or invalid) billed once at the edition's
/// price, replays and refusals not at all.
fn bills_exactly(data: &std::path::Path) {
    use std::str::FromStr;
    use zktx_governance::billing::invoice::receipts_digest;
    use zktx_governance::billing::Period;
    use zktx_server::receipt::ReceiptSigner;
    use zktx_server::store::billing;

    let data = zktx_formats::DataDir::new(data);
    let signer = ReceiptSigner::load_existing(&data.receipt_signing_key()).unwrap();
    let mut conn = billing::open(&data.store()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let period = Period::containing(now);
    let invoices = billing::close(&mut conn, &signer, period, period.end_ms()).unwrap();
    let tenants: Vec<String> = conn
        .prepare("SELECT DISTINCT tenant FROM receipts ORDER BY tenant")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!tenants.is_empty() && !tenants.contains(&"capped".to_string()));
    assert_eq!(
        invoices.len(),
        tenants.len(),
        "one invoice per tenant with usage"
    );
    for stored in invoices {
        let invoice = &stored.invoice;
        let ids: Vec<(String, String)> = conn
            .prepare("SELECT id, verdict FROM receipts WHERE tenant = ?1")
            .unwrap()
            .query_map([&invoice.tenant], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for verdict in ["valid", "invalid"] {
            let billed: u64 = invoice
                .line_items
                .iter()
                .filter(|l| l.verdict == verdict)
                .map(|l| l.quantity)
                .sum();
            let issued = ids.iter().filter(|(_, v)| v == verdict).count() as u64;
            assert_eq!(billed, issued, "{} {verdict}", invoice.tenant);
        }
        let price = rust_decimal::Decimal::from_str(invoice.edition.price_per_proof_usd()).unwrap();
        assert_eq!(
            invoice.total_usd,
            price * rust_decimal::Decimal::from(ids.len() as u64)
        );
        assert_eq!(
            invoice.receipts_sha256,
            receipts_digest(ids.iter().map(|(id, _)| id.as_str()))
        );
    }
}
