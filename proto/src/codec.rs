//! The server's codec: prost's, except for requests that are not valid protobuf.
//!
//! tonic answers bytes that do not decode as the method's request message with
//! INTERNAL, as gRPC's status-code table suggests. For a public API that tells
//! the partner, and our alerts on server faults, that the server failed, when
//! the request did: the server's generated code uses [`RequestCodec`], which
//! answers INVALID_ARGUMENT naming the message and what was wrong with it.
//! Clients keep prost's codec: a response that does not decode *is* a fault.

use std::marker::PhantomData;

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
    U: Message + Default + Send + 'static,
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

impl<U: Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
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
}
