//! The server's codec: prost's, except for requests that are not valid protobuf.
//!
//! tonic answers bytes that do not decode as the method's request message with
//! INTERNAL, as gRPC's status-code table suggests. For a public API that tells
//! the partner, and our alerts on server faults, that the server failed, when
//! the request did: the server's generated code uses [`RequestCodec`], which
//! answers INVALID_ARGUMENT naming the message and what was wrong with it.
//! Clients keep prost's codec: a response that does not decode *is* a fault.
//!
//! Each request message also has a size bound ([`RequestBound`]) checked before
//! decoding: the server's message-size limit must allow its largest batch, and
//! without a bound per message a single proof or a stream message could be
//! that large too. Beyond its bound a message is OUT_OF_RANGE, as tonic
//! answers a message over the server's limit.

use std::marker::PhantomData;

use prost::bytes::Buf;
use prost::Message;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::Status;
use tonic_prost::{ProstCodec, ProstEncoder};

/// Encodes responses as prost does; decodes requests with [`RequestDecoder`].
#[derive(Debug, Clone)]
pub struct RequestCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for RequestCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for RequestCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + RequestBound + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder {
            _type: PhantomData,
            buffer_settings: BufferSettings::default(),
        }
    }
}

/// Decodes a request message; bytes that are not one are INVALID_ARGUMENT.
#[derive(Debug, Clone)]
pub struct RequestDecoder<U> {
    _type: PhantomData<U>,
    buffer_settings: BufferSettings,
}

impl<U: Message + Default + RequestBound> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        if let Some(max) = U::MAX_BYTES {
            if buf.remaining() > max {
                return Err(Status::out_of_range(format!(
                    "a zktx.v1.{} message may be at most {max} bytes; this one is {}",
                    message_name::<U>(),
                    buf.remaining()
                )));
            }
        }
        U::decode(buf).map(Some).map_err(|error| {
            Status::invalid_argument(format!(
                "the request is not a valid zktx.v1.{} message: {error}",
                message_name::<U>()
            ))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.buffer_settings
    }
}

/// The most bytes one proof submission needs: an honest one is about 480
/// (a 64-digit fingerprint, four public inputs, 192 proof bytes); the bound
/// leaves room for `0x` prefixes and framing.
pub const MAX_SUBMISSION_BYTES: usize = 1024;

/// The largest `VerifyBatchRequest` a batch of `max_batch` submissions needs:
/// the server's message-size limit.
pub fn max_batch_message_bytes(max_batch: usize) -> usize {
    max_batch.saturating_mul(MAX_SUBMISSION_BYTES + 4) + 64
}

/// A request message's size bound, checked before it is decoded.
pub trait RequestBound {
    /// The most bytes a message of this type may have (`None`: only the
    /// server's message-size limit applies).
    const MAX_BYTES: Option<usize>;
}

macro_rules! bound {
    ($($message:ty => $max:expr),* $(,)?) => {
        $(impl RequestBound for $message {
            const MAX_BYTES: Option<usize> = $max;
        })*
    };
}

bound! {
    crate::v1::VerifyRequest => Some(MAX_SUBMISSION_BYTES + 16),
    crate::v1::VerifyStreamRequest => Some(MAX_SUBMISSION_BYTES + 32),
    // Bounded by the server's limit, sized for the largest plan's batch; the
    // count is checked against the caller's plan before items are decoded.
    crate::lazy::LazyVerifyBatchRequest => None,
    crate::v1::GetReceiptRequest => Some(256),
    crate::v1::ListCircuitsRequest => Some(256),
    crate::v1::GetReceiptKeyRequest => Some(256),
    crate::v1::GetUsageRequest => Some(256),
    crate::v1::GetEntitlementsRequest => Some(256),
    crate::v1::GetAttestationRequest => Some(256),
}

/// The message's own name: the last segment of its Rust path.
fn message_name<U>() -> &'static str {
    let path = std::any::type_name::<U>();
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1;

    #[test]
    fn names_the_message() {
        assert_eq!(message_name::<v1::VerifyRequest>(), "VerifyRequest");
        assert_eq!(message_name::<v1::GetReceiptRequest>(), "GetReceiptRequest");
    }

    #[test]
    fn an_honest_submission_fits_its_bound() {
        let submission = v1::ProofSubmission {
            key_fingerprint: "f".repeat(64),
            public_inputs: Some(v1::PublicInputs {
                commit_a: format!("0x{}", "a".repeat(64)),
                commit_b: format!("0x{}", "b".repeat(64)),
                k: u64::MAX,
                context: format!("0x{}", "c".repeat(64)),
            }),
            proof: vec![0xff; 192],
        };
        let stream = v1::VerifyStreamRequest {
            sequence: u64::MAX,
            submission: Some(submission.clone()),
        };
        assert!(submission.encoded_len() < MAX_SUBMISSION_BYTES / 2);
        assert!(stream.encoded_len() <= v1::VerifyStreamRequest::MAX_BYTES.unwrap());
        let batch = v1::VerifyBatchRequest {
            items: vec![submission; 100],
        };
        assert!(batch.encoded_len() <= max_batch_message_bytes(100));
    }
}
