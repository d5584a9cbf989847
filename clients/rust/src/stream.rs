//! Verifying a stream of proofs: gRPC's `VerifyStream` (one call, answers
//! matched to proofs by sequence number), or over REST concurrent single
//! calls. Either way at most the builder's `stream_window` proofs are
//! unanswered at a time.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use zktx_proto::status::Code;
use zktx_proto::v1;

use crate::{grpc, Client, Error, Proof, Transport, Verification};

/// The answer for one proof of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamResult {
    /// The proof's position in the input stream, from 0.
    pub index: usize,
    /// Its verdict, or why it has none.
    pub result: Result<Verification, Error>,
}

impl Client {
    /// Verifies the proofs of `proofs` as they come, answering each as soon
    /// as it is verified (not necessarily in order; [`StreamResult::index`]
    /// says which proof an answer is for).
    ///
    /// Every proof taken from `proofs` gets exactly one answer. Over gRPC,
    /// if the stream breaks, each proof sent and not yet answered gets the
    /// error and no more proofs are taken; answers on a stream are not
    /// retried (a proof answered `UNAVAILABLE` can be sent again). Over REST
    /// each proof is a [`Client::verify`] call, retried as any.
    pub fn verify_stream<S>(&self, proofs: S) -> Pin<Box<dyn Stream<Item = StreamResult> + Send>>
    where
        S: Stream<Item = Proof> + Send + 'static,
    {
        match &*self.transport {
            Transport::Rest(_) => {
                let client = self.clone();
                let window = self.stream_window;
                Box::pin(
                    proofs
                        .enumerate()
                        .map(move |(index, proof)| {
                            let client = client.clone();
                            async move {
                                StreamResult {
                                    index,
                                    result: client.verify(&proof).await,
                                }
                            }
                        })
                        .buffer_unordered(window),
                )
            }
            Transport::Grpc(grpc) => {
                let (answers, receiver) = mpsc::channel(self.stream_window);
                let call = GrpcStream {
                    grpc: grpc.clone(),
                    api_key: self.api_key.clone(),
                    window: self.stream_window,
                };
                tokio::spawn(call.run(proofs, answers));
                Box::pin(ReceiverStream::new(receiver))
            }
        }
    }
}

/// Takes proofs from `proofs` into the call's outbound messages, each after
/// a permit of the window, so that no proof is taken once the answers have
/// stopped (the window is then closed).
async fn feed<S>(
    proofs: S,
    requests: mpsc::Sender<v1::VerifyStreamRequest>,
    sent: Arc<Mutex<BTreeSet<usize>>>,
    window: Arc<tokio::sync::Semaphore>,
) where
    S: Stream<Item = Proof> + Send + 'static,
{
    let mut proofs = std::pin::pin!(proofs.enumerate());
    loop {
        let Ok(permit) = window.acquire().await else {
            return;
        };
        let Some((index, proof)) = proofs.next().await else {
            return;
        };
        permit.forget();
        sent.lock().expect("stream table").insert(index);
        let message = v1::VerifyStreamRequest {
            sequence: index as u64,
            submission: Some(proof.to_message()),
        };
        if requests.send(message).await.is_err() {
            return;
        }
    }
}

/// One `VerifyStream` call and the bookkeeping that answers every proof.
struct GrpcStream {
    grpc: grpc::Grpc,
    api_key: Arc<str>,
    window: usize,
}

impl GrpcStream {
    async fn run<S>(self, proofs: S, answers: mpsc::Sender<StreamResult>)
    where
        S: Stream<Item = Proof> + Send + 'static,
    {
        // Proofs sent and not yet answered; the window's permits bound them.
        let unanswered: Arc<Mutex<BTreeSet<usize>>> = Arc::default();
        let window = Arc::new(tokio::sync::Semaphore::new(self.window));
        let (requests, outbound) = mpsc::channel(1);
        let feeder = tokio::spawn(feed(proofs, requests, unanswered.clone(), window.clone()));
        let outbound = ReceiverStream::new(outbound);
        let ended = match self.grpc.open_stream(&self.api_key, outbound).await {
            Err(error) => error,
            Ok(mut inbound) => loop {
                match inbound.message().await {
                    Ok(Some(message)) => {
                        let index = message.sequence as usize;
                        if !unanswered.lock().expect("stream table").remove(&index) {
                            break Error::malformed("an answer for a proof that was not sent");
                        }
                        window.add_permits(1);
                        let result = grpc::item(message.result);
                        if answers.send(StreamResult { index, result }).await.is_err() {
                            // The caller dropped the stream: take no more proofs.
                            window.close();
                            feeder.abort();
                            return;
                        }
                    }
                    Ok(None) => break Error::new(Code::Unavailable, "the server ended the stream"),
                    Err(status) => break Error::from_status(&status),
                }
            },
        };
        // No more proofs are taken once the answers stop.
        window.close();
        feeder.abort();
        let left = std::mem::take(&mut *unanswered.lock().expect("stream table"));
        for index in left {
            let result = Err(ended.clone());
            if answers.send(StreamResult { index, result }).await.is_err() {
                return;
            }
        }
    }
}
