//! A lean gRPC client for unary calls: one HTTP/2 connection (hyper), each
//! call one `HEADERS` frame and one `DATA` frame that ends the stream.
//!
//! tonic's client sends the request body as a stream and ends it with a
//! separate empty `DATA` frame, which on a busy loopback is often flushed on
//! its own: three writes per call where two frames do. Its channel also
//! passes every call through a buffer task. When the load generator shares
//! the server's cores, each of those costs the server CPU; this client keeps
//! the generator's share small. The wire format is plain gRPC (length-prefixed
//! protobuf, `grpc-status` in the trailers), so the server cannot tell the
//! difference.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::{Code, Status};

/// One HTTP/2 connection to a gRPC server; cheap to clone (calls share it).
#[derive(Clone)]
pub struct UnaryChannel {
    send: SendRequest<Full<Bytes>>,
    authority: String,
}

/// The 5-byte gRPC message prefix: not compressed, then the length.
const PREFIX: usize = 5;

impl UnaryChannel {
    /// Connects (with `TCP_NODELAY`) and completes the HTTP/2 handshake; the
    /// connection is driven by a task on the current runtime.
    pub async fn connect(addr: SocketAddr) -> Result<Self, Status> {
        let unavailable = |e: &dyn std::fmt::Display| Status::unavailable(format!("{addr}: {e}"));
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| unavailable(&e))?;
        tcp.set_nodelay(true).map_err(|e| unavailable(&e))?;
        let (send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| unavailable(&e))?;
        tokio::spawn(connection);
        Ok(Self {
            send,
            authority: addr.to_string(),
        })
    }

    /// Calls `path` (e.g. `/zktx.v1.Verifier/Verify`) with `request` and the
    /// `metadata` headers; the answer's status is the server's `grpc-status`.
    pub async fn unary<Req, Resp>(
        &self,
        path: &str,
        request: &Req,
        metadata: &[(&'static str, &str)],
    ) -> Result<Resp, Status>
    where
        Req: prost::Message,
        Resp: prost::Message + Default,
    {
        let length = request.encoded_len();
        let mut body = BytesMut::with_capacity(PREFIX + length);
        body.put_u8(0);
        body.put_u32(
            u32::try_from(length).map_err(|_| Status::invalid_argument("request too large"))?,
        );
        request
            .encode(&mut body)
            .map_err(|e| Status::internal(e.to_string()))?;
        let mut builder = http::Request::post(format!("http://{}{path}", self.authority))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (name, value) in metadata {
            builder = builder.header(*name, *value);
        }
        let http_request = builder
            .body(Full::new(body.freeze()))
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let mut send = self.send.clone();
        let response = send
            .send_request(http_request)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        // Trailers-only: an error status in the headers, no body.
        if let Some(status) = Status::from_header_map(response.headers()) {
            if status.code() != Code::Ok {
                return Err(status);
            }
        }
        if response.status() != http::StatusCode::OK {
            return Err(Status::unknown(format!(
                "HTTP status {}",
                response.status()
            )));
        }
        let collected = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let status = Status::from_header_map(&trailers)
            .ok_or_else(|| Status::internal("the response has no grpc-status"))?;
        if status.code() != Code::Ok {
            return Err(status);
        }
        decode_message(&collected.to_bytes())
    }
}

/// The one length-prefixed, uncompressed message of a unary response.
fn decode_message<Resp: prost::Message + Default>(frame: &[u8]) -> Result<Resp, Status> {
    let malformed = |why: &str| Status::internal(format!("malformed response: {why}"));
    if frame.len() < PREFIX {
        return Err(malformed("shorter than the message prefix"));
    }
    if frame[0] != 0 {
        return Err(malformed("compressed, which was not asked for"));
    }
    let length = u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]]) as usize;
    if frame.len() != PREFIX + length {
        return Err(malformed("length prefix does not match the body"));
    }
    Resp::decode(&frame[PREFIX..]).map_err(|e| malformed(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zktx_proto::v1;

    fn framed(message: &impl prost::Message) -> Vec<u8> {
        let mut out = vec![0u8];
        out.extend((message.encoded_len() as u32).to_be_bytes());
        out.extend(message.encode_to_vec());
        out
    }

    #[test]
    fn decodes_one_framed_message_and_refuses_bad_frames() {
        let message = v1::GetReceiptRequest {
            id: "ab".repeat(16),
        };
        let frame = framed(&message);
        assert_eq!(
            decode_message::<v1::GetReceiptRequest>(&frame).unwrap(),
            message
        );
        assert!(decode_message::<v1::GetReceiptRequest>(&frame[..3]).is_err());
        assert!(decode_message::<v1::GetReceiptRequest>(&frame[..frame.len() - 1]).is_err());
        let mut compressed = frame.clone();
        compressed[0] = 1;
        assert!(decode_message::<v1::GetReceiptRequest>(&compressed).is_err());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = UnaryChannel::connect(addr).await.err().unwrap();
        assert_eq!(error.code(), Code::Unavailable);
    }
}
