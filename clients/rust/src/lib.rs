//! An async client for the zktx verification service.
//!
//! One [`Client`], built from an address and an API key, talks gRPC (tonic)
//! or REST (reqwest) with the same methods and the same [`Error`]:
//!
//! ```no_run
//! # async fn run() -> Result<(), zktx_client::Error> {
//! use zktx_client::{Client, Proof};
//!
//! let client = Client::builder("http://127.0.0.1:50051", "zk_live_...")
//!     .connect()
//!     .await?;
//! let proof = Proof::from_json(&std::fs::read_to_string("proof.json").unwrap())?;
//! let answer = client.verify(&proof).await?;
//! let key = client.receipt_key().await?;
//! Client::verify_receipt(&answer.receipt, &key.public_key).expect("signed by the server");
//! # Ok(())
//! # }
//! ```
//!
//! - Every call has a deadline (the builder's [`ClientBuilder::timeout`],
//!   30 s unless set), sent to the server and enforced here; retries fit in it.
//! - Failed calls are retried with jittered exponential backoff
//!   ([`RetryPolicy`]) only when waiting can help: `UNAVAILABLE`, and a
//!   `RESOURCE_EXHAUSTED` for the request rate, after the server's
//!   `retry-after`. A spent daily quota is returned at once.
//! - The connection is reused: one multiplexed HTTP/2 channel for gRPC, a
//!   connection pool for REST. [`Client::with_api_key`] makes a client for
//!   another tenant over the same connections.
//! - Receipts check offline with [`Client::verify_receipt`]: signed bytes,
//!   Merkle inclusion and Ed25519 (`verify_strict`), no call to the server.
#![forbid(unsafe_code)]

mod error;
mod grpc;
mod proof;
mod rest;
mod retry;
mod stream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tonic::transport::Endpoint;
use zktx_proto::status::Code;

pub use error::Error;
pub use proof::{inputs_message, Proof};
pub use retry::RetryPolicy;
pub use stream::StreamResult;
pub use zktx_proto::receipt::{Receipt, ReceiptError, ReceiptVerdict};
pub use zktx_proto::rest::{
    RestAttestationEnvelope as AttestationEnvelope, RestCircuit as Circuit,
    RestReceiptKey as ReceiptKey, RestVerifyResponse as Verification, UsageReport as Usage,
};
pub use zktx_proto::status::{Code as StatusCode, Reason};

/// Calls `method` on whichever transport the client has, with the API key
/// and the time left, retried by the client's policy within its deadline.
macro_rules! call {
    ($client:ident . $method:ident ( $($arg:expr),* )) => {{
        let key = &*$client.api_key;
        $client
            .retry
            .run($client.deadline(), |left| async move {
                match &*$client.transport {
                    Transport::Grpc(t) => t.$method(key, $($arg,)* left).await,
                    Transport::Rest(t) => t.$method(key, $($arg,)* left).await,
                }
            })
            .await
    }};
}

/// How long an idle REST connection is kept for reuse unless set
/// ([`ClientBuilder::rest_pool_idle`]): below the server's keep-alive bound
/// (`limits.header_read_timeout_ms`, 10 s by default), so a call after a
/// pause never goes out on a connection the server has closed.
pub const REST_POOL_IDLE: Duration = Duration::from_secs(5);

/// Which protocol a client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC (HTTP/2, protobuf): the service's fast path, and streams.
    Grpc,
    /// REST (HTTP/1.1, JSON).
    Rest,
}

/// Settings of a [`Client`]; see [`Client::builder`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    address: String,
    api_key: String,
    protocol: Protocol,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    max_batch: Option<usize>,
    stream_window: usize,
    rest_pool_idle: Duration,
}

impl ClientBuilder {
    /// How long an idle REST connection is kept for reuse ([`REST_POOL_IDLE`]
    /// unless set): keep it below the server's keep-alive bound.
    pub fn rest_pool_idle(mut self, idle: Duration) -> Self {
        self.rest_pool_idle = idle;
        self
    }

    /// Speak `protocol` (gRPC unless set).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// The deadline of every call, retries included (30 s unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long opening a connection may take (5 s unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// When to retry ([`RetryPolicy::default`] unless set).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The most proofs [`Client::verify_batch`] puts in one call. Unless set
    /// it is the plan's `max_batch`, asked of the server once.
    pub fn max_batch(mut self, items: usize) -> Self {
        self.max_batch = Some(items.max(1));
        self
    }

    /// The most proofs [`Client::verify_stream`] has unanswered at a time
    /// (64 unless set; the server's default per-stream bound).
    pub fn stream_window(mut self, proofs: usize) -> Self {
        self.stream_window = proofs.max(1);
        self
    }

    /// The client. Over gRPC the connection is opened lazily, on the first
    /// call, and reopened after a failure; an address that is not a URI is
    /// refused here.
    pub async fn connect(self) -> Result<Client, Error> {
        let address = self.address.trim_end_matches('/').to_string();
        let bad_address = |reason: String| Error {
            field: Some("address".into()),
            ..Error::new(Code::InvalidArgument, reason)
        };
        let transport = match self.protocol {
            Protocol::Grpc => {
                let endpoint = Endpoint::from_shared(address)
                    .map_err(|e| bad_address(format!("not a URI: {e}")))?
                    .connect_timeout(self.connect_timeout)
                    .tcp_nodelay(true);
                Transport::Grpc(grpc::Grpc {
                    channel: endpoint.connect_lazy(),
                })
            }
            Protocol::Rest => {
                if !(address.starts_with("http://") || address.starts_with("https://")) {
                    return Err(bad_address("must start with http:// or https://".into()));
                }
                let http = reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    .pool_idle_timeout(self.rest_pool_idle)
                    .tcp_nodelay(true)
                    .build()
                    .map_err(|e| Error::new(Code::Internal, format!("HTTP client: {e}")))?;
                Transport::Rest(rest::Rest {
                    http,
                    base: address,
                })
            }
        };
        Ok(Client {
            transport: Arc::new(transport),
            api_key: self.api_key.into(),
            timeout: self.timeout,
            retry: self.retry,
            max_batch_set: self.max_batch,
            max_batch: Arc::new(OnceCell::new_with(self.max_batch)),
            stream_window: self.stream_window,
        })
    }
}

#[derive(Debug)]
enum Transport {
    Grpc(grpc::Grpc),
    Rest(rest::Rest),
}

/// A connection to the service for one API key; cheap to clone (clones share
/// the connection).
#[derive(Clone, Debug)]
pub struct Client {
    transport: Arc<Transport>,
    api_key: Arc<str>,
    timeout: Duration,
    retry: RetryPolicy,
    /// The builder's `max_batch`, if set: kept by [`Client::with_api_key`].
    max_batch_set: Option<usize>,
    /// The batch size in use: the builder's, or the plan's once asked.
    max_batch: Arc<OnceCell<usize>>,
    stream_window: usize,
}

impl Client {
    /// Settings for a client of the service at `address` (e.g.
    /// `http://127.0.0.1:50051` for gRPC, `http://127.0.0.1:8080` for REST)
    /// calling with `api_key`.
    pub fn builder(address: impl Into<String>, api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            address: address.into(),
            api_key: api_key.into(),
            protocol: Protocol::Grpc,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            max_batch: None,
            stream_window: 64,
            rest_pool_idle: REST_POOL_IDLE,
        }
    }

    /// A client for another tenant over the same connections and settings
    /// (its plan's `max_batch` is asked anew unless the builder set one).
    pub fn with_api_key(&self, api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into().into(),
            max_batch: Arc::new(OnceCell::new_with(self.max_batch_set)),
            ..self.clone()
        }
    }

    /// The protocol this client speaks.
    pub fn protocol(&self) -> Protocol {
        match *self.transport {
            Transport::Grpc(_) => Protocol::Grpc,
            Transport::Rest(_) => Protocol::Rest,
        }
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Verifies one proof: its verdict and signed receipt.
    pub async fn verify(&self, proof: &Proof) -> Result<Verification, Error> {
        call!(self.verify(proof))
    }

    /// Verifies many proofs, in calls of at most the plan's `max_batch`
    /// (made one after another); one result per proof, in order. An item's
    /// error names the field by the proof's index in `proofs`
    /// (`items[12].proof`), not its index in the call that carried it. An
    /// error that refuses a whole call (rate, deadline) is returned as the call's.
    pub async fn verify_batch(
        &self,
        proofs: &[Proof],
    ) -> Result<Vec<Result<Verification, Error>>, Error> {
        let per_call = self.max_batch().await?;
        let mut results = Vec::with_capacity(proofs.len());
        for (n, chunk) in proofs.chunks(per_call).enumerate() {
            let offset = n * per_call;
            results.extend(
                call!(self.verify_batch(chunk))?
                    .into_iter()
                    .map(|r| r.map_err(|e| e.reindexed(offset))),
            );
        }
        Ok(results)
    }

    /// The most proofs one batch call carries: set on the builder, or the plan's.
    pub async fn max_batch(&self) -> Result<usize, Error> {
        self.max_batch
            .get_or_try_init(|| async { Ok(self.usage().await?.max_batch.max(1)) })
            .await
            .copied()
    }

    /// A receipt this tenant was issued, by id.
    pub async fn receipt(&self, id: &str) -> Result<Receipt, Error> {
        call!(self.receipt(id))
    }

    /// The circuits the service verifies, and which the plan allows.
    pub async fn circuits(&self) -> Result<Vec<Circuit>, Error> {
        call!(self.circuits())
    }

    /// The plan and today's metered proofs.
    pub async fn usage(&self) -> Result<Usage, Error> {
        call!(self.usage())
    }

    /// The public key that signs the service's receipts.
    pub async fn receipt_key(&self) -> Result<ReceiptKey, Error> {
        call!(self.receipt_key())
    }

    /// What the service says it runs, signed with its receipt key (a DSSE
    /// envelope; `zktx attest verify --server` checks it against a release).
    pub async fn attestation(&self) -> Result<AttestationEnvelope, Error> {
        call!(self.attestation())
    }

    /// Checks a receipt offline against the service's public key (hex, from
    /// [`Client::receipt_key`], kept by the caller): the signed bytes, the
    /// Merkle inclusion in its signed group and the Ed25519 signature.
    pub fn verify_receipt(receipt: &Receipt, public_key: &str) -> Result<(), ReceiptError> {
        receipt.verify(public_key)
    }
}
