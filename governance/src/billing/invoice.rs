//! Rating and the invoice document: exact decimals (never floats), one
//! invoice per tenant per UTC month, its JSON bytes hashed and signed.

use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::period::Period;
use crate::entitlements::Edition;

/// The invoice format's name.
pub const INVOICE_FORMAT: &str = "zktx-invoice-v1";

/// Metered verifications of one circuit with one verdict in the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageLine {
    /// The circuit id.
    pub circuit: String,
    /// `valid` or `invalid`.
    pub verdict: String,
    /// How many.
    pub quantity: u64,
}

/// What an invoice is computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceInputs {
    /// The tenant.
    pub tenant: String,
    /// Its plan's name.
    pub plan: String,
    /// Its plan's edition (the price).
    pub edition: Edition,
    /// The month.
    pub period: Period,
    /// When issued (Unix milliseconds).
    pub issued_at_ms: i64,
    /// Metered verifications by circuit and verdict.
    pub usage: Vec<UsageLine>,
    /// The SHA-256 (hex) over the billed receipts' ids, sorted, one per line.
    pub receipts_sha256: String,
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// What is billed.
    pub description: String,
    /// The circuit.
    pub circuit: String,
    /// `valid` or `invalid`.
    pub verdict: String,
    /// Verifications.
    pub quantity: u64,
    /// Price of one (USD).
    pub unit_price_usd: Decimal,
    /// `quantity × unit_price_usd`, exact (USD, 4 decimals).
    pub amount_usd: Decimal,
}

/// An invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    /// [`INVOICE_FORMAT`].
    pub format: String,
    /// `inv-<period>-<tenant>`: one per tenant and month.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// The plan's name.
    pub plan: String,
    /// The plan's edition.
    pub edition: Edition,
    /// The month, `YYYY-MM`.
    pub period: String,
    /// The period's start (RFC 3339, inclusive).
    pub period_start: String,
    /// The period's end (RFC 3339, exclusive).
    pub period_end: String,
    /// When issued (RFC 3339).
    pub issued_at: String,
    /// Always `USD`.
    pub currency: String,
    /// The edition's price of one verified proof.
    pub unit_price_usd: Decimal,
    /// By circuit and verdict, sorted.
    pub line_items: Vec<LineItem>,
    /// Verifications billed.
    pub quantity: u64,
    /// The exact total (4 decimals).
    pub total_usd: Decimal,
    /// The total rounded to cents, half away from zero: what is due.
    pub amount_due_usd: Decimal,
    /// The SHA-256 (hex) over the billed receipts' ids, sorted, one per line:
    /// anyone holding the receipts can recompute it.
    pub receipts_sha256: String,
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The id of `tenant`'s invoice for `period`.
pub fn invoice_id(tenant: &str, period: Period) -> String {
    format!("inv-{period}-{tenant}")
}

/// The SHA-256 (hex) over receipt ids as invoices state it: sorted, one per line.
pub fn receipts_digest<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    let mut hasher = Sha256::new();
    for id in ids {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// Rates `inputs`: every metered verification, valid or invalid, at the
/// edition's price.
pub fn rate(inputs: InvoiceInputs) -> Invoice {
    let price = Decimal::from_str(inputs.edition.price_per_proof_usd()).expect("a decimal price");
    let mut usage = inputs.usage;
    usage.sort_by(|a, b| (&a.circuit, &a.verdict).cmp(&(&b.circuit, &b.verdict)));
    let line_items: Vec<LineItem> = usage
        .into_iter()
        .filter(|u| u.quantity > 0)
        .map(|u| {
            let mut amount = price * Decimal::from(u.quantity);
            amount.rescale(4);
            LineItem {
                description: format!("Verifications of {} ({} verdicts)", u.circuit, u.verdict),
                circuit: u.circuit,
                verdict: u.verdict,
                quantity: u.quantity,
                unit_price_usd: price,
                amount_usd: amount,
            }
        })
        .collect();
    let mut total: Decimal = line_items.iter().map(|l| l.amount_usd).sum();
    total.rescale(4);
    let mut due = total.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    due.rescale(2);
    Invoice {
        format: INVOICE_FORMAT.into(),
        id: invoice_id(&inputs.tenant, inputs.period),
        tenant: inputs.tenant,
        plan: inputs.plan,
        edition: inputs.edition,
        period: inputs.period.to_string(),
        period_start: rfc3339(inputs.period.start_ms()),
        period_end: rfc3339(inputs.period.end_ms()),
        issued_at: rfc3339(inputs.issued_at_ms),
        currency: "USD".into(),
        unit_price_usd: price,
        quantity: line_items.iter().map(|l| l.quantity).sum(),
        line_items,
        total_usd: total,
        amount_due_usd: due,
        receipts_sha256: inputs.receipts_sha256,
    }
}

impl Invoice {
    /// The invoice's bytes: pretty JSON and a newline. What is hashed, signed,
    /// stored and written to `<id>.json`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("an invoice serialises");
        bytes.push(b'\n');
        bytes
    }
}

/// The SHA-256 (hex) of an invoice's bytes.
pub fn invoice_sha256(json: &[u8]) -> String {
    hex::encode(Sha256::digest(json))
}

fn signing_text(id: &str, sha256: &str) -> String {
    format!("zktx-invoice-v1\nid={id}\nsha256={sha256}\n")
}

/// Signs an invoice's id and SHA-256 with the server's receipt key (hex signature).
pub fn sign_invoice(id: &str, sha256: &str, key: &SigningKey) -> String {
    hex::encode(key.sign(signing_text(id, sha256).as_bytes()).to_bytes())
}

/// Checks an invoice's bytes against its signature and the receipt key (hex).
pub fn verify_invoice(json: &[u8], signature: &str, public_key: &str) -> bool {
    let Ok(invoice) = serde_json::from_slice::<Invoice>(json) else {
        return false;
    };
    let (mut key, mut sig) = ([0u8; 32], [0u8; 64]);
    if hex::decode_to_slice(public_key, &mut key).is_err()
        || hex::decode_to_slice(signature, &mut sig).is_err()
    {
        return false;
    }
    let Ok(key) = VerifyingKey::from_bytes(&key) else {
        return false;
    };
    key.verify_strict(
        signing_text(&invoice.id, &invoice_sha256(json)).as_bytes(),
        &Signature::from_bytes(&sig),
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(edition: Edition, usage: &[(&str, &str, u64)]) -> InvoiceInputs {
        InvoiceInputs {
            tenant: "acme".into(),
            plan: edition.name().into(),
            edition,
            period: Period::parse("2026-11").unwrap(),
            issued_at_ms: Period::parse("2026-12").unwrap().start_ms() + 3_600_000,
            usage: usage
                .iter()
                .map(|(c, v, q)| UsageLine {
                    circuit: (*c).into(),
                    verdict: (*v).into(),
                    quantity: *q,
                })
                .collect(),
            receipts_sha256: receipts_digest(["b", "a"]),
        }
    }

    #[test]
    fn the_arithmetic_is_exact_per_edition() {
        // (edition, valid, invalid) → (total, due)
        for (edition, valid, invalid, total, due) in [
            (Edition::Starter, 3, 0, "0.0300", "0.03"),
            (Edition::Pro, 3, 0, "0.0150", "0.02"),
            (Edition::Pro, 1, 0, "0.0050", "0.01"),
            (Edition::Enterprise, 1, 1, "0.0050", "0.01"),
            (Edition::Enterprise, 2, 0, "0.0050", "0.01"),
            (Edition::Enterprise, 1, 0, "0.0025", "0.00"),
            (Edition::Enterprise, 1_000_001, 3, "2500.0100", "2500.01"),
            (Edition::Starter, 0, 0, "0.0000", "0.00"),
        ] {
            let invoice = rate(inputs(
                edition,
                &[("c16", "valid", valid), ("c16", "invalid", invalid)],
            ));
            assert_eq!(
                invoice.total_usd.to_string(),
                total,
                "{edition} {valid}+{invalid}"
            );
            assert_eq!(
                invoice.amount_due_usd.to_string(),
                due,
                "{edition} {valid}+{invalid}"
            );
            assert_eq!(invoice.quantity, valid + invalid);
        }
        // A third of a cent ten million times is exact, where f64 is not.
        let many = rate(inputs(Edition::Enterprise, &[("c", "valid", 10_000_000)]));
        assert_eq!(many.total_usd.to_string(), "25000.0000");
    }

    #[test]
    fn the_json_is_golden() {
        let invoice = rate(inputs(
            Edition::Pro,
            &[
                ("zktx/overlap/v1/capacity-64", "valid", 7),
                ("zktx/overlap/v1/capacity-16", "invalid", 2),
                ("zktx/overlap/v1/capacity-16", "valid", 120),
            ],
        ));
        let json = String::from_utf8(invoice.to_json()).unwrap();
        let golden = r#"{
  "format": "zktx-invoice-v1",
  "id": "inv-2026-11-acme",
  "tenant": "acme",
  "plan": "pro",
  "edition": "pro",
  "period": "2026-11",
  "period_start": "2026-11-01T00:00:00Z",
  "period_end": "2026-12-01T00:00:00Z",
  "issued_at": "2026-12-01T01:00:00Z",
  "currency": "USD",
  "unit_price_usd": "0.005",
  "line_items": [
    {
      "description": "Verifications of zktx/overlap/v1/capacity-16 (invalid verdicts)",
      "circuit": "zktx/overlap/v1/capacity-16",
      "verdict": "invalid",
      "quantity": 2,
      "unit_price_usd": "0.005",
      "amount_usd": "0.0100"
    },
    {
      "description": "Verifications of zktx/overlap/v1/capacity-16 (valid verdicts)",
      "circuit": "zktx/overlap/v1/capacity-16",
      "verdict": "valid",
      "quantity": 120,
      "unit_price_usd": "0.005",
      "amount_usd": "0.6000"
    },
    {
      "description": "Verifications of zktx/overlap/v1/capacity-64 (valid verdicts)",
      "circuit": "zktx/overlap/v1/capacity-64",
      "verdict": "valid",
      "quantity": 7,
      "unit_price_usd": "0.005",
      "amount_usd": "0.0350"
    }
  ],
  "quantity": 129,
  "total_usd": "0.6450",
  "amount_due_usd": "0.65",
  "receipts_sha256": "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2"
}
"#;
        assert_eq!(json, golden);
        assert_eq!(serde_json::from_str::<Invoice>(&json).unwrap(), invoice);
    }

    #[test]
    fn the_signature_covers_the_bytes() {
        let key = SigningKey::from_bytes(&[2; 32]);
        let pk = hex::encode(key.verifying_key().to_bytes());
        let invoice = rate(inputs(Edition::Starter, &[("c", "valid", 1)]));
        let json = invoice.to_json();
        let signature = sign_invoice(&invoice.id, &invoice_sha256(&json), &key);
        assert!(verify_invoice(&json, &signature, &pk));
        let edited = String::from_utf8(json).unwrap().replace("0.0100", "0.0001");
        assert!(!verify_invoice(edited.as_bytes(), &signature, &pk));
    }
}
