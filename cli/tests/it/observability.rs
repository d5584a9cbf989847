//! Observability as an operator runs it, against a real `zktx serve`:
//! - every metric the alert rules (`deploy/prometheus/zktx.rules.yml`), the
//!   Grafana dashboard (`deploy/grafana/zktx.json`) and the runbooks
//!   (`deploy/runbooks/`) name is one the server exports on its live
//!   `/metrics`, and every recording rule they use is defined;
//! - a real Prometheus (Debian's package) on loopback scrapes the server,
//!   evaluates the rules (a recording rule has a value, an alert fires for
//!   development keys outside the dev profile, no rule fails) and answers
//!   every dashboard query without error;
//! - the JSON log line of a request carries the W3C trace id the caller sent.
//!
//! The Prometheus part needs `prometheus` (`scripts/tools.sh` installs it);
//! without it that part is skipped with a message, unless
//! `ZKTX_REQUIRE_PROMETHEUS=1` (set by `scripts/test.sh`) makes it a failure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve::{proof_body, proofs, serve, tenant_config, Served};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Metric names on a Prometheus text exposition.
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap_or_default().to_string())
        .collect()
}

/// Every `zktx_*` metric name and every `zktx:*` recording-rule name in `text`.
fn named(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut metrics, mut recorded) = (BTreeSet::new(), BTreeSet::new());
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut i = 0;
    while let Some(at) = text[i..].find("zktx") {
        let start = i + at;
        let mut end = start;
        while end < bytes.len() && ident(bytes[end]) {
            end += 1;
        }
        let name = &text[start..end];
        let standalone = start == 0 || !ident(bytes[start - 1]);
        if standalone && name.starts_with("zktx_") {
            metrics.insert(name.to_string());
        } else if standalone && name.starts_with("zktx:") && name[5..].contains(':') {
            // zktx:level:operation (not an image tag such as `zktx:$VERSION`)
            recorded.insert(name.to_string());
        }
        i = end.max(start + 4);
    }
    (metrics, recorded)
}

/// A sandbox-like server on tier 4 development keys, in the staging profile
/// (which allows them, with a warning; prod refuses them), with a tenant.
struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    served: Served,
    key: String,
    proof_files: Vec<PathBuf>,
}

impl Setup {
    fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let proof_files = proofs(&dir, 3);
        let key = tenant_config(&dir);
        let served = serve(
            &dir,
            &[
                "--config",
                "zktx.toml",
                "--keys",
                "keys",
                "--profile",
                "staging",
            ],
        );
        Self {
            _dir: tmp,
            dir,
            served,
            key,
            proof_files,
        }
    }

    /// What drives calls at this server.
    fn driver(&self) -> Driver {
        Driver {
            verify: self.served.url("/v1/verify"),
            batch: self.served.url("/v1/verify/batch"),
            key: self.key.clone(),
            proof_files: self.proof_files.clone(),
        }
    }
}

/// Calls at a running server, from any task.
#[derive(Clone)]
struct Driver {
    verify: String,
    batch: String,
    key: String,
    proof_files: Vec<PathBuf>,
}

impl Driver {
    /// Valid and invalid proofs, one with a caller's trace context, a
    /// malformed call, an unauthenticated one and a batch.
    async fn drive(&self, http: &reqwest::Client, round: u64, traceparent: Option<&str>) {
        let url = &self.verify;
        for (i, file) in self.proof_files.iter().enumerate() {
            let mut request = http
                .post(url)
                .bearer_auth(&self.key)
                .json(&proof_body(file, None));
            if let (0, Some(tp)) = (i, traceparent) {
                request = request.header("traceparent", tp);
            }
            assert_eq!(request.send().await.unwrap().status(), 200);
            let wrong_k = proof_body(file, Some(2 + round));
            let _ = http
                .post(url)
                .bearer_auth(&self.key)
                .json(&wrong_k)
                .send()
                .await
                .unwrap();
        }
        let malformed = http
            .post(url)
            .bearer_auth(&self.key)
            .body("{}")
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), 400);
        let anonymous = http
            .post(url)
            .json(&proof_body(&self.proof_files[0], None))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        let batch = serde_json::json!({
            "items": self.proof_files.iter().map(|f| proof_body(f, None)).collect::<Vec<_>>()
        });
        let answer = http
            .post(&self.batch)
            .bearer_auth(&self.key)
            .json(&batch)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.served.child.kill();
        let _ = self.served.child.wait();
    }
}

fn find_prometheus() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ZKTX_PROMETHEUS") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join("prometheus"))
        .find(|p| p.is_file())
}

struct Prometheus {
    child: Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Prometheus scraping `target` every second with the project's rules,
/// evaluated every second.
fn start_prometheus(binary: &Path, dir: &Path, target: &str) -> Prometheus {
    let rules = std::fs::read_to_string(repo("deploy/prometheus/zktx.rules.yml")).unwrap();
    assert!(rules.contains("interval: 30s"));
    std::fs::write(
        dir.join("rules.yml"),
        rules.replace("interval: 30s", "interval: 1s"),
    )
    .unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\n\
             scrape_configs:\n  - job_name: zktx\n    static_configs:\n      - targets: [\"{target}\"]\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn query(http: &reqwest::Client, prometheus: &str, expr: &str) -> serde_json::Value {
    let answer: serde_json::Value = http
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "success", "{expr}: {answer}");
    answer["data"]["result"].clone()
}

async fn alerts(http: &reqwest::Client, prometheus: &str) -> serde_json::Value {
    get_json(http, &format!("{prometheus}/api/v1/alerts")).await
}

async fn get_json(http: &reqwest::Client, url: &str) -> serde_json::Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Polls `check` once a second for up to `limit`; panics with `what` after.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[test]
fn rules_and_dashboard_name_live_metrics_and_prometheus_evaluates_them() {
    let setup = Setup::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let driver = setup.driver();
    runtime.block_on(driver.drive(&http, 0, Some(&traceparent)));

    // 1. Every metric named by the rules and the dashboard is exported.
    let live = runtime.block_on(async {
        http.get(setup.served.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let exported = exported(&live);
    let rules = std::fs::read_to_string(repo("deploy/prometheus/zktx.rules.yml")).unwrap();
    let dashboard = std::fs::read_to_string(repo("deploy/grafana/zktx.json")).unwrap();
    let defined: BTreeSet<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- record: "))
        .map(str::to_string)
        .collect();
    let mut documents = vec![
        ("zktx.rules.yml".to_string(), rules.clone()),
        ("zktx.json".to_string(), dashboard.clone()),
    ];
    for entry in std::fs::read_dir(repo("deploy/runbooks")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        documents.push((path.display().to_string(), text));
    }
    for (file, text) in &documents {
        let (metrics, recorded) = named(text);
        if !file.ends_with("README.md") {
            assert!(!metrics.is_empty(), "{file} names no metric");
        }
        // A histogram is named by its base name or its series' names.
        let unknown: Vec<_> = metrics
            .iter()
            .filter(|m| !exported.contains(*m) && !exported.contains(&format!("{m}_bucket")))
            .collect();
        assert!(
            unknown.is_empty(),
            "{file} names metrics the server does not export: {unknown:?}"
        );
        let undefined: Vec<_> = recorded.difference(&defined).collect();
        assert!(
            undefined.is_empty(),
            "{file} uses recording rules not defined: {undefined:?}"
        );
    }

    // 2. The request's JSON log line carries the caller's trace id.
    let log = std::fs::read_to_string(setup.dir.join("server.log")).unwrap();
    let traced = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|line| line["fields"]["trace_id"] == trace_id)
        .unwrap_or_else(|| panic!("no log line carries trace id {trace_id}:\n{log}"));
    assert_eq!(traced["fields"]["method"], "rest.verify");
    let fresh = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|line| line["fields"]["message"] == "request")
        .filter(|line| line["fields"]["trace_id"] != trace_id)
        .count();
    assert!(
        fresh > 0,
        "requests without a trace context get one of their own"
    );
    assert!(log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|line| line["fields"]["message"] == "request")
        .all(|line| line["fields"]["trace_id"].as_str().map(str::len) == Some(32)));

    // 3. A real Prometheus scrapes it and evaluates the rules.
    let Some(binary) = find_prometheus() else {
        assert!(
            std::env::var_os("ZKTX_REQUIRE_PROMETHEUS").is_none(),
            "prometheus is required (ZKTX_REQUIRE_PROMETHEUS) but not found: scripts/tools.sh installs it"
        );
        eprintln!(
            "SKIPPED the Prometheus part: no `prometheus` on PATH (scripts/tools.sh installs it)"
        );
        return;
    };
    let prom_dir = tempfile::tempdir().unwrap();
    let target = setup.served.ready["http_addr"]
        .as_str()
        .unwrap()
        .to_string();
    let prometheus = start_prometheus(&binary, prom_dir.path(), &target);
    let url = prometheus.url.clone();
    let prometheus_log = prom_dir.path().join("prometheus.log");
    runtime.block_on(async {
        eventually(Duration::from_secs(60), "Prometheus to be ready", || async {
            matches!(http.get(format!("{url}/-/ready")).send().await, Ok(r) if r.status() == 200)
        })
        .await;
        // Load all along, so that every rate has samples to differ.
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let load = {
            let (driver, http) = (driver.clone(), http.clone());
            tokio::spawn(async move {
                for round in 1.. {
                    driver.drive(&http, round, None).await;
                    tokio::select! {
                        _ = stopped.changed() => break,
                        _ = tokio::time::sleep(Duration::from_millis(300)) => {}
                    }
                }
            })
        };
        eventually(
            Duration::from_secs(60),
            "the target to be scraped up",
            || async {
                let up = query(&http, &url, "up{job=\"zktx\"}").await;
                up.as_array()
                    .is_some_and(|s| s.len() == 1 && s[0]["value"][1] == "1")
            },
        )
        .await;
        // A recording rule: the error ratio has a value (no server-side error here).
        eventually(
            Duration::from_secs(60),
            "zktx:slo_errors:ratio_rate5m",
            || async {
                let samples = query(&http, &url, "zktx:slo_errors:ratio_rate5m").await;
                samples
                    .as_array()
                    .is_some_and(|s| s.len() == 1 && s[0]["value"][1] == "0")
            },
        )
        .await;
        let saturation = query(&http, &url, "zktx:queue_saturation:ratio").await;
        assert_eq!(saturation.as_array().unwrap().len(), 1, "{saturation}");

        // Every rule loaded and evaluates without error; one alert's
        // expression, queried as it is written, finds this staging server's
        // development keys, and the alert fires.
        let rules = get_json(&http, &format!("{url}/api/v1/rules")).await;
        let all: Vec<&serde_json::Value> = rules["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        assert_eq!(all.len(), 26, "every rule loaded");
        for rule in &all {
            assert_eq!(rule["health"], "ok", "{rule}");
        }
        let dev_keys = all
            .iter()
            .find(|r| r["name"] == "ZktxDevKeysOutsideDev")
            .unwrap();
        let found = query(&http, &url, dev_keys["query"].as_str().unwrap()).await;
        assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
        eventually(
            Duration::from_secs(30),
            "ZktxDevKeysOutsideDev to fire",
            || async {
                let alerts = alerts(&http, &url).await;
                alerts["data"]["alerts"].as_array().is_some_and(|a| {
                    a.iter().any(|x| {
                        x["labels"]["alertname"] == "ZktxDevKeysOutsideDev"
                            && x["state"] == "firing"
                    })
                })
            },
        )
        .await;
        // No other alert fires on a healthy server; the share of refused
        // calls this load makes (unauthenticated, malformed) is pending
        // towards ZktxRejectedCallsHigh, which waits 10 minutes to fire.
        let now = alerts(&http, &url).await;
        let firing: Vec<_> = now["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["state"] == "firing")
            .filter(|a| a["labels"]["alertname"] != "ZktxDevKeysOutsideDev")
            .map(|a| a["labels"]["alertname"].clone())
            .collect();
        assert!(firing.is_empty(), "unexpected alerts: {firing:?}");
        eventually(
            Duration::from_secs(30),
            "ZktxRejectedCallsHigh pending",
            || async {
                let alerts = alerts(&http, &url).await;
                alerts["data"]["alerts"].as_array().is_some_and(|a| {
                    a.iter().any(|a| {
                        a["labels"]["alertname"] == "ZktxRejectedCallsHigh"
                            && a["labels"]["code"] == "UNAUTHENTICATED"
                            && a["state"] == "pending"
                    })
                })
            },
        )
        .await;

        // Every dashboard query is valid PromQL with data behind it.
        let board: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"]
                    .as_str()
                    .unwrap()
                    .replace("$__rate_interval", "1m");
                query(&http, &url, &expr).await;
            }
        }
        let requests = query(&http, &url, "sum(rate(zktx_requests_total[1m])) > 0").await;
        assert_eq!(requests.as_array().unwrap().len(), 1, "{requests}");
        stop.send(true).unwrap();
        load.await.unwrap();
    });
    drop(prometheus);
    let _ = std::fs::read_to_string(prometheus_log);
}

#[test]
fn name_scanning_finds_metrics_and_recording_rules_only() {
    let (metrics, recorded) =
        named("rate(zktx_requests_total[5m]) / zktx:slo:ratio + my_zktx_other - \"zktx-overview\" zktx:1.0");
    assert_eq!(
        metrics.into_iter().collect::<Vec<_>>(),
        vec!["zktx_requests_total"]
    );
    assert_eq!(
        recorded.into_iter().collect::<Vec<_>>(),
        vec!["zktx:slo:ratio"]
    );
    assert_eq!(
        exported("# HELP x\nzktx_a{b=\"c\"} 1\nzktx_d 2\n")
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["zktx_a", "zktx_d"]
    );
}
