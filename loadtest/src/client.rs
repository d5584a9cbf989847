//! Sends one call of the mix over gRPC (unary, batch or stream) or REST and
//! classifies what came back.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::HeaderValue;
use tokio::sync::{mpsc, oneshot};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use zktx_proto::receipt::ReceiptVerdict;
use zktx_proto::rest::ErrorBody;
use zktx_proto::status::grpc_code_name;
use zktx_proto::v1::{self, verifier_client::VerifierClient};
use zktx_verifier::BatchItem;

use crate::mix::Answer;
use crate::wire::{RawCodec, UnaryChannel};
use crate::LoadError;

/// The gRPC path of `Verify`.
const VERIFY_PATH: &str = "/zktx.v1.Verifier/Verify";

/// How calls reach the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One gRPC `Verify` per proof.
    Unary,
    /// gRPC `VerifyBatch` calls of this many proofs.
    Batch(usize),
    /// Messages on one bidirectional `VerifyStream` per connection.
    Stream,
    /// REST `POST /v1/verify` (or `/v1/verify/batch` for oversized batches).
    Rest,
}

impl std::str::FromStr for Transport {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "unary" => Ok(Self::Unary),
            "stream" => Ok(Self::Stream),
            "rest" => Ok(Self::Rest),
            _ => match text.strip_prefix("batch:").map(str::parse::<usize>) {
                Some(Ok(n)) if n > 0 => Ok(Self::Batch(n)),
                _ => Err(format!(
                    "transport `{text}`: expected unary, stream, rest or batch:N"
                )),
            },
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unary => f.write_str("unary"),
            Self::Batch(n) => write!(f, "batch:{n}"),
            Self::Stream => f.write_str("stream"),
            Self::Rest => f.write_str("rest"),
        }
    }
}

/// The server to drive: loopback addresses only.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The gRPC listener.
    pub grpc: SocketAddr,
    /// The REST listener (also `/metrics`).
    pub http: SocketAddr,
}

impl Target {
    /// A target, refused unless both addresses are loopback: a load generator
    /// must never be pointed at someone else's service by mistake.
    pub fn loopback(grpc: SocketAddr, http: SocketAddr) -> Result<Self, LoadError> {
        for addr in [grpc, http] {
            if !addr.ip().is_loopback() {
                return Err(LoadError::NotLoopback(addr));
            }
        }
        Ok(Self { grpc, http })
    }
}

/// The most streams the load client opens on one connection: well under the
/// server's default `limits.max_streams_per_connection` (128).
pub const STREAMS_PER_CONNECTION: usize = 64;

/// Connections to one server.
pub struct Client {
    channels: Vec<Channel>,
    /// Lean unary connections (one per gRPC connection): unary calls take
    /// two frames and no buffer task, so the generator's CPU stays small.
    unary: Vec<UnaryChannel>,
    /// `Verify`'s URI on the lean connections, parsed once.
    verify_uri: Option<http::Uri>,
    /// `zktx-client` gRPC clients, one per connection: batches, streams.
    api: Vec<zktx_client::Client>,
    /// Streams by the API key they authenticated with (a stream has one
    /// tenant): one for each key.
    streams: HashMap<String, Vec<StreamConn>>,
    /// REST calls, as a partner makes them (`zktx-client`, without retries:
    /// the generator counts every refusal).
    rest: zktx_client::Client,
    /// Raw HTTP: `/metrics` and garbled bodies, which no API client sends.
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// Opens `connections` gRPC connections (and, for [`Transport::Stream`],
    /// one stream for every key of `stream_keys`, spread over the
    /// connections, with more connections if needed so that none carries
    /// more than [`STREAMS_PER_CONNECTION`]) and an HTTP client.
    pub async fn connect(
        target: Target,
        connections: usize,
        transport: Transport,
        stream_keys: &[String],
    ) -> Result<Self, LoadError> {
        let mut channels = Vec::new();
        let connections = match transport {
            Transport::Stream => {
                connections.max(stream_keys.len().div_ceil(STREAMS_PER_CONNECTION))
            }
            _ => connections,
        };
        for _ in 0..connections.max(1) {
            let channel = Endpoint::from_shared(format!("http://{}", target.grpc))
                .map_err(|e| LoadError::Connect(e.to_string()))?
                .tcp_nodelay(true)
                .connect()
                .await
                .map_err(|e| LoadError::Connect(format!("gRPC {}: {e}", target.grpc)))?;
            channels.push(channel);
        }
        let mut unary = Vec::new();
        if matches!(transport, Transport::Unary | Transport::Stream) {
            for _ in 0..channels.len() {
                let channel = UnaryChannel::connect(target.grpc).await.map_err(|e| {
                    LoadError::Connect(format!("gRPC {}: {}", target.grpc, e.message()))
                })?;
                unary.push(channel);
            }
        }
        let verify_uri = match unary.first() {
            Some(channel) => Some(
                channel
                    .uri(VERIFY_PATH)
                    .map_err(|e| LoadError::Connect(e.message().to_string()))?,
            ),
            None => None,
        };
        // Batches and streams as a partner sends them: `zktx-client`, one
        // connection each, no retries (the generator counts every refusal),
        // and no splitting (oversized batches are part of the mix).
        let mut api = Vec::new();
        for _ in 0..channels.len() {
            let client = zktx_client::Client::builder(format!("http://{}", target.grpc), "")
                .retry(zktx_client::RetryPolicy::none())
                .max_batch(usize::MAX)
                .timeout(Duration::from_secs(120))
                .connect()
                .await
                .map_err(|e| LoadError::Connect(e.to_string()))?;
            api.push(client);
        }
        let mut streams = HashMap::new();
        if transport == Transport::Stream {
            for (i, key) in stream_keys.iter().enumerate() {
                let conn = StreamConn::open(&api[i % api.len()], key);
                streams.insert(key.clone(), vec![conn]);
            }
        }
        let base = format!("http://{}", target.http);
        let rest = zktx_client::Client::builder(&base, "")
            .protocol(zktx_client::Protocol::Rest)
            .retry(zktx_client::RetryPolicy::none())
            // Oversized batches are part of the mix: one call, never split.
            .max_batch(usize::MAX)
            .connect()
            .await
            .map_err(|e| LoadError::Connect(e.to_string()))?;
        Ok(Self {
            channels,
            unary,
            verify_uri,
            api,
            streams,
            rest,
            // Idle connections go before the server's keep-alive bound (10 s)
            // closes them, so a sample after a long run never meets a dead one.
            http: reqwest::Client::builder()
                .pool_idle_timeout(zktx_client::REST_POOL_IDLE)
                .build()
                .map_err(|e| LoadError::Connect(e.to_string()))?,
            base,
        })
    }

    /// The `zktx-client` gRPC client of connection `n` (modulo their number).
    pub fn api(&self, n: usize) -> &zktx_client::Client {
        &self.api[n % self.api.len()]
    }

    /// A gRPC client, picked by `n` (calls spread over the connections).
    pub fn grpc(&self, n: usize) -> VerifierClient<Channel> {
        VerifierClient::new(self.channel(n))
    }

    /// Connection `n` (modulo the number of connections).
    fn channel(&self, n: usize) -> Channel {
        self.channels[n % self.channels.len()].clone()
    }

    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> Result<String, LoadError> {
        let response = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .map_err(|e| LoadError::Connect(e.to_string()))?;
        response
            .text()
            .await
            .map_err(|e| LoadError::Connect(e.to_string()))
    }

    /// The tenant's largest batch, from its usage report.
    pub async fn max_batch(&self, key: &str) -> Result<usize, LoadError> {
        let usage = self
            .rest
            .with_api_key(key)
            .usage()
            .await
            .map_err(|e| LoadError::Server(format!("usage: {e}")))?;
        Ok(usage.max_batch)
    }

    /// Sends `items` as one call (`n` picks the connection) and returns one
    /// answer per item; `batch` forces a batch call whatever the transport.
    pub async fn send(
        &self,
        transport: Transport,
        n: usize,
        key: &str,
        items: &[BatchItem],
        batch: bool,
    ) -> Vec<Answer> {
        match transport {
            Transport::Rest if batch || items.len() > 1 => self.rest_batch(key, items).await,
            Transport::Rest => vec![self.rest_one(key, &items[0]).await],
            // A tenant without streams of its own (the capped one) goes unary.
            Transport::Stream if !batch && items.len() == 1 && self.streams.contains_key(key) => {
                let conns = &self.streams[key];
                vec![conns[n % conns.len()].verify(&items[0]).await]
            }
            Transport::Unary | Transport::Stream if !batch && items.len() == 1 => {
                let request = v1::VerifyRequest {
                    submission: Some(submission(&items[0])),
                };
                let answer = match self.unary.get(n % self.unary.len().max(1)) {
                    Some(channel) => {
                        let bearer = format!("Bearer {key}");
                        channel
                            .unary::<_, v1::VerifyResponse>(
                                VERIFY_PATH,
                                &request,
                                &[("authorization", bearer.as_str())],
                            )
                            .await
                    }
                    None => self
                        .grpc(n)
                        .verify(authed(request, key))
                        .await
                        .map(tonic::Response::into_inner),
                };
                vec![match answer {
                    Ok(r) => verdict_answer(&r),
                    Err(status) => Answer::Status(grpc_code_name(status.code())),
                }]
            }
            _ => {
                let proofs: Vec<zktx_client::Proof> = items.iter().map(client_proof).collect();
                match self.api(n).with_api_key(key).verify_batch(&proofs).await {
                    Ok(results) => results.into_iter().map(client_answer).collect(),
                    Err(error) => vec![Answer::Status(error.code.name()); items.len()],
                }
            }
        }
    }

    /// Sends one unary `Verify` call whose request was framed before the run
    /// ([`verify_frame`]) on lean connection `n`, authorised by `bearer`
    /// ([`bearer`]): the fast path of valid unary calls, where nothing is
    /// encoded or formatted per call. Without lean connections (another
    /// transport) the call is refused as `FAILED_PRECONDITION`.
    pub async fn verify_framed(&self, n: usize, bearer: &HeaderValue, frame: Bytes) -> Answer {
        let Some((channel, uri)) = self
            .unary
            .get(n % self.unary.len().max(1))
            .zip(self.verify_uri.as_ref())
        else {
            return Answer::Status("FAILED_PRECONDITION");
        };
        match channel
            .unary_framed::<v1::VerifyResponse>(uri, frame, bearer)
            .await
        {
            Ok(response) => verdict_answer(&response),
            Err(status) => Answer::Status(grpc_code_name(status.code())),
        }
    }

    /// Whether unary calls go over lean connections (and so
    /// [`Client::verify_framed`] can be used).
    pub fn has_lean_unary(&self) -> bool {
        !self.unary.is_empty() && self.verify_uri.is_some()
    }

    /// Sends `item`'s request cut in half, so that it is not the method's
    /// protobuf message (gRPC transports, on connection `n`) or not JSON
    /// (REST): the server must refuse it with INVALID_ARGUMENT.
    pub async fn send_garbled(
        &self,
        transport: Transport,
        n: usize,
        key: &str,
        item: &BatchItem,
    ) -> Answer {
        if transport == Transport::Rest {
            let mut body = serde_json::to_vec(&client_proof(item).to_rest()).unwrap_or_default();
            body.truncate(body.len() / 2);
            return match self.rest_post_verify(key, body).await {
                Ok(r) if r.status().is_success() => Answer::Status("OK"),
                Ok(r) => rest_error(r.json::<ErrorBody>().await.ok()),
                Err(_) => Answer::Status("UNAVAILABLE"),
            };
        }
        let whole = prost::Message::encode_to_vec(&v1::VerifyRequest {
            submission: Some(submission(item)),
        });
        let cut = bytes::Bytes::copy_from_slice(&whole[..whole.len() / 2]);
        let mut grpc = tonic::client::Grpc::new(self.channel(n));
        if grpc.ready().await.is_err() {
            return Answer::Status("UNAVAILABLE");
        }
        let path = http::uri::PathAndQuery::from_static("/zktx.v1.Verifier/Verify");
        match grpc.unary(authed(cut, key), path, RawCodec).await {
            Ok(_) => Answer::Status("OK"),
            Err(status) => Answer::Status(grpc_code_name(status.code())),
        }
    }

    /// POSTs `body` as JSON to `/v1/verify` for the tenant with API key `key`.
    async fn rest_post_verify(
        &self,
        key: &str,
        body: Vec<u8>,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}/v1/verify", self.base))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
    }

    async fn rest_one(&self, key: &str, item: &BatchItem) -> Answer {
        client_answer(
            self.rest
                .with_api_key(key)
                .verify(&client_proof(item))
                .await,
        )
    }

    async fn rest_batch(&self, key: &str, items: &[BatchItem]) -> Vec<Answer> {
        let proofs: Vec<zktx_client::Proof> = items.iter().map(client_proof).collect();
        match self.rest.with_api_key(key).verify_batch(&proofs).await {
            Ok(results) => results.into_iter().map(client_answer).collect(),
            Err(error) => vec![Answer::Status(error.code.name()); items.len()],
        }
    }
}

/// One `VerifyStream` (through `zktx-client`) with each proof's answer
/// handed to the call that sent it.
struct StreamConn {
    /// The next proof's index and the way into the stream, locked together
    /// so that indices follow the order in which proofs enter it.
    sender: tokio::sync::Mutex<(usize, mpsc::Sender<zktx_client::Proof>)>,
    waiting: Arc<Mutex<HashMap<usize, oneshot::Sender<Answer>>>>,
}

impl StreamConn {
    fn open(client: &zktx_client::Client, key: &str) -> Self {
        let (sender, receiver) = mpsc::channel(1024);
        let mut answers = client
            .with_api_key(key)
            .verify_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
        let waiting: Arc<Mutex<HashMap<usize, oneshot::Sender<Answer>>>> = Arc::default();
        let table = waiting.clone();
        tokio::spawn(async move {
            while let Some(answer) = answers.next().await {
                let slot = table.lock().expect("stream table").remove(&answer.index);
                if let Some(slot) = slot {
                    let _ = slot.send(client_answer(answer.result));
                }
            }
            // The stream ended: whoever still waits is answered by dropping their slot.
            table.lock().expect("stream table").clear();
        });
        Self {
            sender: tokio::sync::Mutex::new((0, sender)),
            waiting,
        }
    }

    async fn verify(&self, item: &BatchItem) -> Answer {
        let (slot, answer) = oneshot::channel();
        {
            let mut sender = self.sender.lock().await;
            let index = sender.0;
            sender.0 += 1;
            self.waiting
                .lock()
                .expect("stream table")
                .insert(index, slot);
            if sender.1.send(client_proof(item)).await.is_err() {
                return Answer::Status("UNAVAILABLE");
            }
        }
        answer.await.unwrap_or(Answer::Status("UNAVAILABLE"))
    }
}

/// Runs `call`, hanging up after `after`: the caller disconnects mid-request.
pub async fn hang_up<F: std::future::Future>(call: F, after: Duration) -> Answer {
    let _ = tokio::time::timeout(after, call).await;
    Answer::Gone
}

/// A request with the tenant's bearer key.
pub fn authed<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {key}").parse::<MetadataValue<_>>() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// `item`'s unary `Verify` request, framed for the lean channel
/// ([`crate::wire::UnaryChannel::unary_framed`]).
pub fn verify_frame(item: &BatchItem) -> Result<Bytes, LoadError> {
    let request = v1::VerifyRequest {
        submission: Some(submission(item)),
    };
    crate::wire::frame(&request).map_err(|status| LoadError::Invalid(status.message().into()))
}

/// The `authorization` header value for `key` (`Bearer KEY`).
pub fn bearer(key: &str) -> Result<HeaderValue, LoadError> {
    HeaderValue::from_str(&format!("Bearer {key}"))
        .map_err(|_| LoadError::Invalid("an API key is not a valid HTTP header value".into()))
}

/// The wire form of one proof (built from the item in place: the lean
/// unary path does not go through a `zktx_client::Proof` copy first).
pub fn submission(item: &BatchItem) -> v1::ProofSubmission {
    v1::ProofSubmission {
        key_fingerprint: item.key.clone(),
        public_inputs: Some(zktx_client::inputs_message(&item.inputs)),
        proof: item.proof.clone(),
    }
}

/// One proof as the API client (`zktx-client`) sends it.
pub fn client_proof(item: &BatchItem) -> zktx_client::Proof {
    zktx_client::Proof {
        key_fingerprint: item.key.clone(),
        public_inputs: item.inputs.clone(),
        proof: item.proof.clone(),
    }
}

/// The answer a verify response carries: an earlier receipt for the same
/// valid statement is a replay (no verification was done).
fn verdict_answer(response: &v1::VerifyResponse) -> Answer {
    match v1::Verdict::try_from(response.verdict) {
        Ok(v1::Verdict::Valid) if response.replayed => Answer::Replayed,
        Ok(v1::Verdict::Valid) => Answer::Valid,
        Ok(v1::Verdict::Invalid) => Answer::Invalid,
        _ => Answer::Status("UNKNOWN"),
    }
}

/// The answer of a `zktx-client` call: a verdict (a replay when an earlier
/// receipt came back), or the status code's name.
fn client_answer(result: Result<zktx_client::Verification, zktx_client::Error>) -> Answer {
    match result {
        Ok(v) if v.verdict == ReceiptVerdict::Valid && v.replayed => Answer::Replayed,
        Ok(v) if v.verdict == ReceiptVerdict::Valid => Answer::Valid,
        Ok(_) => Answer::Invalid,
        Err(error) => Answer::Status(error.code.name()),
    }
}

fn rest_error(body: Option<ErrorBody>) -> Answer {
    Answer::Status(body.map_or("UNKNOWN", |b| code_named(&b.code)))
}

/// The static name of a gRPC code given by name (`UNKNOWN` if it is none).
fn code_named(name: &str) -> &'static str {
    (0..=16)
        .map(|i| grpc_code_name(tonic::Code::from_i32(i)))
        .find(|known| *known == name)
        .unwrap_or("UNKNOWN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse() {
        assert_eq!("unary".parse(), Ok(Transport::Unary));
        assert_eq!("batch:100".parse(), Ok(Transport::Batch(100)));
        assert!("batch:0".parse::<Transport>().is_err());
        assert!("carrier-pigeon".parse::<Transport>().is_err());
        assert_eq!(Transport::Batch(7).to_string(), "batch:7");
    }

    #[test]
    fn only_loopback_targets() {
        let local: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let remote: SocketAddr = "10.1.2.3:1".parse().unwrap();
        assert!(Target::loopback(local, local).is_ok());
        assert!(Target::loopback(local, remote).is_err());
        assert!(Target::loopback("[::1]:1".parse().unwrap(), local).is_ok());
    }

    #[test]
    fn code_names_are_recognised() {
        assert_eq!(code_named("RESOURCE_EXHAUSTED"), "RESOURCE_EXHAUSTED");
        assert_eq!(code_named("nonsense"), "UNKNOWN");
    }
}
