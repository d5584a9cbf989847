//! A lean gRPC client for unary calls: one HTTP/2 connection (the `h2` crate,
//! which hyper and tonic are built on), each call one `HEADERS` frame and one
//! `DATA` frame that ends the stream, queued together so that they leave in
//! one write.
//!
//! h2 copies a `DATA` frame into its write buffer only when the frame is
//! shorter than a threshold (256 bytes on a socket with vectored writes, 1 KiB
//! without); a longer one is kept aside and written with `writev`, and then
//! nothing more is buffered until that write is done: one system call per
//! call, however many calls are queued. A `VerifyRequest` is about 470 bytes,
//! so the channel tells h2 that its socket has no vectored writes
//! ([`PlainWrites`]): every call queued when the connection task runs leaves
//! in one `write`.
//!
//! tonic's client sends the request body as a stream and ends it with a
//! separate empty `DATA` frame, which on a busy loopback is often flushed on
//! its own: three writes per call where one does. Its channel also passes
//! every call through a buffer task, and hyper's client sends a body from a
//! task of its own, after the headers have been written. When the load
//! generator shares the server's cores, each write and wake-up costs the
//! machine; this client keeps the generator's share small. The wire format is plain gRPC (length-prefixed
//! protobuf, `grpc-status` in the trailers), so the server cannot tell the
//! difference.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, TE};
use http::Uri;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::{Code, Status};

/// One HTTP/2 connection to a gRPC server; cheap to clone (calls share it).
#[derive(Clone)]
pub struct UnaryChannel {
    send: SendRequest<Bytes>,
    authority: String,
}

/// The 5-byte gRPC message prefix: not compressed, then the length.
const PREFIX: usize = 5;

impl UnaryChannel {
    /// Connects (with `TCP_NODELAY`) and completes the HTTP/2 handshake; the
    /// connection is driven by a task on the current runtime.
    pub async fn connect(addr: SocketAddr) -> Result<Self, Status> {
        let unavailable = |e: &dyn std::fmt::Display| Status::unavailable(format!("{addr}: {e}"));
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| unavailable(&e))?;
        tcp.set_nodelay(true).map_err(|e| unavailable(&e))?;
        let (send, connection) = h2::client::handshake(PlainWrites(tcp))
            .await
            .map_err(|e| unavailable(&e))?;
        tokio::spawn(async move {
            // The connection ends when every handle is dropped or the peer goes.
            let _ = connection.await;
        });
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
        let head = self.head(path, metadata)?;
        let message = one_message(self.send(head, frame(request)?).await?)?;
        Resp::decode(message).map_err(|e| Status::internal(format!("malformed response: {e}")))
    }

    /// Calls the method at `uri` (from [`UnaryChannel::uri`]) with `frame`, a
    /// request already framed by [`frame`], authorised by `authorization`:
    /// for a caller that sends the same requests many times, nothing is
    /// encoded, formatted or parsed per call.
    pub async fn unary_framed<Resp>(
        &self,
        uri: &Uri,
        frame: Bytes,
        authorization: &HeaderValue,
    ) -> Result<Resp, Status>
    where
        Resp: prost::Message + Default,
    {
        let mut head = http::Request::new(());
        *head.method_mut() = http::Method::POST;
        *head.uri_mut() = uri.clone();
        let headers = head.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        headers.insert(AUTHORIZATION, authorization.clone());
        let message = one_message(self.send(head, frame).await?)?;
        Resp::decode(message).map_err(|e| Status::internal(format!("malformed response: {e}")))
    }

    /// The URI of the method at `path` on this channel's server.
    pub fn uri(&self, path: &str) -> Result<Uri, Status> {
        format!("http://{}{path}", self.authority)
            .parse()
            .map_err(|e: http::uri::InvalidUri| Status::invalid_argument(e.to_string()))
    }

    /// Calls `path` with `message` sent as it is, whether or not it is valid
    /// protobuf (for testing what a server makes of malformed requests); the
    /// answer is the response message's bytes.
    pub async fn unary_bytes(
        &self,
        path: &str,
        message: &[u8],
        metadata: &[(&'static str, &str)],
    ) -> Result<Bytes, Status> {
        let head = self.head(path, metadata)?;
        one_message(self.send(head, framed(&[message])?).await?)
    }

    /// Calls `path` with `messages`, each sent as it is in one length-prefixed
    /// frame of the request stream (for testing a streaming method with raw
    /// bytes). The answer is the status that ends the call and the response's
    /// bytes.
    pub async fn frames(
        &self,
        path: &str,
        messages: &[&[u8]],
        metadata: &[(&'static str, &str)],
    ) -> (Status, Bytes) {
        let sent = match (self.head(path, metadata), framed(messages)) {
            (Ok(head), Ok(body)) => self.send(head, body).await,
            (Err(status), _) | (_, Err(status)) => Err(status),
        };
        sent.unwrap_or_else(|status| (status, Bytes::new()))
    }

    /// A gRPC request's head for `path` with the `metadata` headers.
    fn head(
        &self,
        path: &str,
        metadata: &[(&'static str, &str)],
    ) -> Result<http::Request<()>, Status> {
        let mut builder = http::Request::post(self.uri(path)?)
            .header(CONTENT_TYPE, "application/grpc")
            .header(TE, "trailers");
        for (name, value) in metadata {
            builder = builder.header(*name, *value);
        }
        builder
            .body(())
            .map_err(|e| Status::invalid_argument(e.to_string()))
    }

    /// Sends `head` and `body` (gRPC frames): the status that ends the call,
    /// from the headers (trailers-only) or the trailers, and the response's
    /// bytes; `Err` when there is no gRPC answer at all.
    async fn send(&self, head: http::Request<()>, body: Bytes) -> Result<(Status, Bytes), Status> {
        let unavailable = |e: h2::Error| Status::unavailable(e.to_string());
        let mut send = self.send.clone().ready().await.map_err(unavailable)?;
        // Headers and data are queued in one go: the connection task writes them together.
        let (response, mut stream) = send.send_request(head, false).map_err(unavailable)?;
        stream.send_data(body, true).map_err(unavailable)?;
        let response = response.await.map_err(unavailable)?;
        // Trailers-only: an error status in the headers, no body.
        if let Some(status) = Status::from_header_map(response.headers()) {
            if status.code() != Code::Ok {
                return Ok((status, Bytes::new()));
            }
        }
        if response.status() != http::StatusCode::OK {
            return Err(Status::unknown(format!(
                "HTTP status {}",
                response.status()
            )));
        }
        let mut body = response.into_body();
        // A unary answer usually comes in one chunk: kept as it is, not copied.
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(unavailable)?;
            let _ = body.flow_control().release_capacity(chunk.len());
            match &first {
                None => first = Some(chunk),
                Some(head) => {
                    if rest.is_empty() {
                        rest.extend_from_slice(head);
                    }
                    rest.extend_from_slice(&chunk);
                }
            }
        }
        let bytes = if rest.is_empty() {
            first.unwrap_or_default()
        } else {
            rest.freeze()
        };
        let trailers = body
            .trailers()
            .await
            .map_err(unavailable)?
            .unwrap_or_default();
        let status = Status::from_header_map(&trailers)
            .ok_or_else(|| Status::internal("the response has no grpc-status"))?;
        Ok((status, bytes))
    }
}

/// A TCP stream that reports no vectored writes, so that h2 copies frames of
/// up to 1 KiB into its buffer and writes each batch of queued calls at once
/// (see the module docs). Reads and writes go to the stream unchanged.
struct PlainWrites(TcpStream);

impl AsyncRead for PlainWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for PlainWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// Appends the 5-byte prefix of an uncompressed message of `length` bytes.
fn put_prefix(body: &mut BytesMut, length: usize) -> Result<(), Status> {
    let length =
        u32::try_from(length).map_err(|_| Status::invalid_argument("message too large"))?;
    body.put_u8(0);
    body.put_u32(length);
    Ok(())
}

/// `message` encoded as a one-message gRPC request body (its 5-byte prefix,
/// then the message: encoded in place, no copy).
pub fn frame<M: prost::Message>(message: &M) -> Result<Bytes, Status> {
    let length = message.encoded_len();
    let mut body = BytesMut::with_capacity(PREFIX + length);
    put_prefix(&mut body, length)?;
    message
        .encode(&mut body)
        .map_err(|e| Status::internal(e.to_string()))?;
    Ok(body.freeze())
}

/// `messages` as a request body: each behind its prefix.
fn framed(messages: &[&[u8]]) -> Result<Bytes, Status> {
    let mut body = BytesMut::with_capacity(messages.iter().map(|m| PREFIX + m.len()).sum());
    for message in messages {
        put_prefix(&mut body, message.len())?;
        body.put_slice(message);
    }
    Ok(body.freeze())
}

/// The one message of a unary answer that ended with OK; else its status.
fn one_message((status, bytes): (Status, Bytes)) -> Result<Bytes, Status> {
    if status.code() != Code::Ok {
        return Err(status);
    }
    message_of(bytes)
}

/// A tonic codec that sends and receives message bytes as they are: for
/// sending, over a tonic channel, requests that are not valid protobuf.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// The bytes of the one length-prefixed, uncompressed message of a unary response.
fn message_of(frame: Bytes) -> Result<Bytes, Status> {
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
    Ok(frame.slice(PREFIX..))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zktx_proto::v1;

    #[test]
    fn decodes_one_framed_message_and_refuses_bad_frames() {
        let message = v1::GetReceiptRequest {
            id: "ab".repeat(16),
        };
        let frame = framed(&[&prost::Message::encode_to_vec(&message)]).unwrap();
        assert_eq!(&frame[..5], &[0, 0, 0, 0, 34]);
        let bytes = message_of(frame.clone()).unwrap();
        assert_eq!(
            <v1::GetReceiptRequest as prost::Message>::decode(bytes).unwrap(),
            message
        );
        assert!(message_of(frame.slice(..3)).is_err());
        assert!(message_of(frame.slice(..frame.len() - 1)).is_err());
        let mut compressed = frame.to_vec();
        compressed[0] = 1;
        assert!(message_of(Bytes::from(compressed)).is_err());
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
