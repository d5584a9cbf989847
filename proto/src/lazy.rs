//! `VerifyBatchRequest` as the server receives it: its items counted, not yet
//! decoded.
//!
//! A batch's size is checked against the caller's plan before any per-item
//! work. prost would decode every item of a message into its own struct (a
//! 4 MiB message of empty items is two million of them), so the server's
//! generated code takes this type in place of [`crate::v1::VerifyBatchRequest`]
//! (the same bytes on the wire): decoding only frames and counts the items,
//! keeping their bytes in one buffer; [`LazyVerifyBatchRequest::decode_items`]
//! decodes them once the count has been accepted.

use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};
use prost::{DecodeError, Message};

/// The field number of `items` in `VerifyBatchRequest`.
const ITEMS: u32 = 1;

/// A `VerifyBatchRequest` whose items are framed and counted but not decoded.
#[derive(Clone, Default)]
pub struct LazyVerifyBatchRequest {
    /// The `items` fields, re-encoded as they came (key, length, bytes).
    frames: Vec<u8>,
    count: usize,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for LazyVerifyBatchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyVerifyBatchRequest")
            .field("items", &self.count)
            .field("bytes", &self.frames.len())
            .finish()
    }
}

impl LazyVerifyBatchRequest {
    /// How many items the request carries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the request carries no item.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Decodes the items, in order.
    pub fn decode_items(&self) -> Result<Vec<crate::v1::ProofSubmission>, DecodeError> {
        crate::v1::VerifyBatchRequest::decode(self.frames.as_slice()).map(|m| m.items)
    }
}

impl Message for LazyVerifyBatchRequest {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.frames);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag != ITEMS {
            return encoding::skip_field(wire_type, tag, buf, ctx);
        }
        // prost's own bytes decoder checks the wire type and the length; the
        // scratch buffer is reused, so an item costs no allocation of its own.
        let mut item = std::mem::take(&mut self.scratch);
        encoding::bytes::merge(wire_type, &mut item, buf, ctx)?;
        encoding::encode_key(ITEMS, WireType::LengthDelimited, &mut self.frames);
        encoding::encode_varint(item.len() as u64, &mut self.frames);
        self.frames.extend_from_slice(&item);
        self.scratch = item;
        self.count += 1;
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.frames.len()
    }

    fn clear(&mut self) {
        self.frames.clear();
        self.count = 0;
        self.scratch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1;

    fn item(n: u8) -> v1::ProofSubmission {
        v1::ProofSubmission {
            key_fingerprint: format!("{n:064x}"),
            public_inputs: Some(v1::PublicInputs {
                commit_a: "a".into(),
                commit_b: "b".into(),
                k: u64::from(n),
                context: "c".into(),
            }),
            proof: vec![n; 192],
        }
    }

    #[test]
    fn counts_then_decodes_the_same_items() {
        let items: Vec<_> = (0..5).map(item).collect();
        let bytes = v1::VerifyBatchRequest {
            items: items.clone(),
        }
        .encode_to_vec();
        let lazy = LazyVerifyBatchRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(lazy.len(), 5);
        assert_eq!(lazy.decode_items().unwrap(), items);
        assert_eq!(lazy.encode_to_vec(), bytes);
    }

    #[test]
    fn empty_items_are_counted_without_being_built() {
        let bytes = b"\x0a\x00".repeat(10_000);
        let lazy = LazyVerifyBatchRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(lazy.len(), 10_000);
        assert!(LazyVerifyBatchRequest::default().is_empty());
    }

    #[test]
    fn malformed_frames_are_refused() {
        // A length past the end, and the wrong wire type for `items`.
        assert!(LazyVerifyBatchRequest::decode(&b"\x0a\x05ab"[..]).is_err());
        assert!(LazyVerifyBatchRequest::decode(&b"\x08\x01"[..]).is_err());
        // An item that frames but is not a ProofSubmission fails at decode_items.
        let lazy = LazyVerifyBatchRequest::decode(&b"\x0a\x02\x0a\x05"[..]).unwrap();
        assert_eq!(lazy.len(), 1);
        assert!(lazy.decode_items().is_err());
    }
}
