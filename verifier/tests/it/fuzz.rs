//! Arbitrary bytes never panic the decoders: they come from the network.

use proptest::prelude::*;
use zktx_verifier::{decode, parse_envelope};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn proof_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode::decode_proof(&bytes);
    }

    #[test]
    fn proof_decoder_never_panics_at_the_right_length(
        bytes in proptest::collection::vec(any::<u8>(), decode::PROOF_COMPRESSED),
        flags in any::<[u8; 3]>(),
    ) {
        // Random flag bits on each point, so every decoding branch is reached.
        let mut bytes = bytes;
        bytes[0] = (bytes[0] & 0x1f) | (flags[0] & 0xe0);
        bytes[48] = (bytes[48] & 0x1f) | (flags[1] & 0xe0);
        bytes[144] = (bytes[144] & 0x1f) | (flags[2] & 0xe0);
        let _ = decode::decode_proof(&bytes);
    }

    #[test]
    fn envelope_parser_never_panics(text in "\\PC{0,300}") {
        let _ = parse_envelope(text.as_bytes());
    }

    #[test]
    fn envelope_parser_never_panics_on_near_valid_json(
        tier in any::<u64>(),
        version in any::<u32>(),
        k in any::<u64>(),
        field in "[0-9a-fA-F]{0,70}",
        proof in "[A-Za-z0-9+/=]{0,300}",
    ) {
        let json = serde_json::json!({
            "format": "zktx-proof", "version": version,
            "circuit": format!("zktx/overlap/v1/capacity-{tier}"), "tier": tier,
            "vk_fingerprint": field,
            "public_inputs": {"commit_a": field, "commit_b": field, "k": k, "context": field},
            "proof": proof,
        });
        if let Ok((envelope, _)) = parse_envelope(json.to_string().as_bytes()) {
            let _ = decode::decode_public_inputs(&envelope.public_inputs);
            let _ = decode::decode_proof_base64(&envelope.proof);
        }
    }
}
