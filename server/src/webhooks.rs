//! Delivering the webhook outbox: a task that POSTs each due
//! `invoice.created` event to the tenant's receiver, signed with HMAC-SHA256
//! over the timestamp and the body, with the event id as idempotency key;
//! a failure is retried with jittered exponential backoff and, after
//! [`MAX_ATTEMPTS`], dead-lettered (`zktx billing webhooks --replay ID`
//! queues it again). The outbox is in the store, so a restart loses nothing:
//! the next start picks up what is due.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::watch;
use zktx_governance::billing::webhook::{
    backoff, signature_header, IDEMPOTENCY_HEADER, MAX_ATTEMPTS, SIGNATURE_HEADER,
};

use crate::config::ServerConfig;
use crate::quota::now_ms;
use crate::store::billing::{self, OutboxEntry};
use crate::ServerError;

/// How often the outbox is read for due deliveries.
const POLL: Duration = Duration::from_millis(250);
/// Deliveries taken per read.
const BATCH: usize = 16;
/// One delivery's timeout.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where each tenant's webhooks go, and the secret they are signed with.
#[derive(Clone, Default)]
pub struct Targets {
    by_tenant: HashMap<String, (String, Vec<u8>)>,
}

impl Targets {
    /// The configured webhooks, their secrets read from the environment; a
    /// variable that is not set refuses the start, naming the field.
    pub fn from_config(config: &ServerConfig) -> Result<Self, ServerError> {
        let mut by_tenant = HashMap::new();
        for (tenant, hook) in &config.webhooks {
            let secret = std::env::var(&hook.secret_env).map_err(|_| {
                ServerError::Io(format!(
                    "webhooks.{tenant}.secret_env: the environment variable {} is not set",
                    hook.secret_env
                ))
            })?;
            by_tenant.insert(tenant.clone(), (hook.url.clone(), secret.into_bytes()));
        }
        Ok(Self { by_tenant })
    }

    /// The receiver URL of `tenant`, if configured.
    pub fn url(&self, tenant: &str) -> Option<&str> {
        self.by_tenant.get(tenant).map(|(url, _)| url.as_str())
    }
}

/// Starts the delivery task over the store at `path`; it ends when `stop` turns true.
pub fn spawn(
    path: PathBuf,
    targets: Targets,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "webhooks: no HTTP client; deliveries stay queued");
                return;
            }
        };
        let mut conn: Option<Arc<Mutex<Connection>>> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
            if targets.by_tenant.is_empty() {
                continue;
            }
            let db = match &conn {
                Some(db) => db.clone(),
                None => match billing::open(&path) {
                    Ok(c) => conn.insert(Arc::new(Mutex::new(c))).clone(),
                    Err(error) => {
                        tracing::warn!(%error, "webhooks: the store is not readable yet");
                        continue;
                    }
                },
            };
            let read = db.clone();
            let due = tokio::task::spawn_blocking(move || {
                billing::due(&read.lock().expect("outbox lock"), now_ms(), BATCH)
            })
            .await;
            let Ok(Ok(due)) = due else {
                continue;
            };
            for entry in due {
                let outcome = deliver(&client, &targets, &entry).await;
                let write = db.clone();
                let id = entry.id.clone();
                let attempts = entry.attempts + 1;
                let _ = tokio::task::spawn_blocking(move || {
                    let now = now_ms();
                    let conn = write.lock().expect("outbox lock");
                    let result = match &outcome {
                        Ok(()) => billing::record_attempt(&conn, &id, Ok(()), now),
                        Err(error) => {
                            let next = (attempts < MAX_ATTEMPTS).then(|| {
                                now + backoff(attempts, rand::random::<f64>()).as_millis() as i64
                            });
                            billing::record_attempt(&conn, &id, Err((error, next)), now)
                        }
                    };
                    match (&outcome, result) {
                        (_, Err(error)) => tracing::error!(%error, delivery = %id, "webhooks: cannot record an attempt"),
                        (Ok(()), Ok(())) => tracing::info!(delivery = %id, attempts, "webhook delivered"),
                        (Err(error), Ok(())) if attempts >= MAX_ATTEMPTS => {
                            tracing::error!(delivery = %id, attempts, %error, "webhook dead-lettered")
                        }
                        (Err(error), Ok(())) => tracing::warn!(delivery = %id, attempts, %error, "webhook failed; will retry"),
                    }
                })
                .await;
            }
        }
    })
}

/// One POST of `entry`; the error names what failed, never the body.
async fn deliver(
    client: &reqwest::Client,
    targets: &Targets,
    entry: &OutboxEntry,
) -> Result<(), String> {
    let (url, secret) = targets
        .by_tenant
        .get(&entry.tenant)
        .ok_or_else(|| "no webhook configured for this tenant".to_string())?;
    let timestamp = now_ms() / 1000;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            SIGNATURE_HEADER,
            signature_header(secret, timestamp, &entry.body),
        )
        .header(IDEMPOTENCY_HEADER, &entry.id)
        .body(entry.body.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                "could not connect or send".to_string()
            }
        })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "receiver answered HTTP {}",
            response.status().as_u16()
        ))
    }
}
