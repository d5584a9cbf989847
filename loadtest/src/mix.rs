//! The traffic mix: what share of requests is valid, invalid, malformed,
//! garbled, repeated, oversized, over quota or abandoned, and what each must
//! get back.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// One kind of request in the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A fresh valid proof: must be answered `valid`.
    Valid,
    /// A valid proof submitted with a different bound k: must be answered `invalid`.
    Invalid,
    /// Proof bytes that do not decode: must be refused with INVALID_ARGUMENT (400).
    Malformed,
    /// A request cut in half, so not protobuf (gRPC) or not JSON (REST): must be
    /// refused with INVALID_ARGUMENT (400).
    Garbled,
    /// An earlier valid request sent again: must be answered `valid` (a replay or a cache hit).
    Repeated,
    /// A batch one proof larger than the plan allows: must be refused with INVALID_ARGUMENT (400).
    Oversized,
    /// A valid proof from a tenant with no quota left: must be refused with
    /// RESOURCE_EXHAUSTED (429).
    OverQuota,
    /// A request whose caller hangs up before the answer: no answer expected.
    Disconnect,
}

impl Kind {
    /// Every kind, in mix order.
    pub const ALL: [Kind; 8] = [
        Kind::Valid,
        Kind::Invalid,
        Kind::Malformed,
        Kind::Garbled,
        Kind::Repeated,
        Kind::Oversized,
        Kind::OverQuota,
        Kind::Disconnect,
    ];

    /// The name flags and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Valid => "valid",
            Kind::Invalid => "invalid",
            Kind::Malformed => "malformed",
            Kind::Garbled => "garbled",
            Kind::Repeated => "repeated",
            Kind::Oversized => "oversized",
            Kind::OverQuota => "over-quota",
            Kind::Disconnect => "disconnect",
        }
    }

    /// The answer this kind must get ([`Answer::Gone`] for disconnects).
    pub fn expected(self) -> Answer {
        match self {
            Kind::Valid | Kind::Repeated => Answer::Valid,
            Kind::Invalid => Answer::Invalid,
            Kind::Malformed | Kind::Garbled | Kind::Oversized => Answer::Status("INVALID_ARGUMENT"),
            Kind::OverQuota => Answer::Status("RESOURCE_EXHAUSTED"),
            Kind::Disconnect => Answer::Gone,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What came back for one proof (or one call).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Answer {
    /// Verdict valid, freshly verified.
    Valid,
    /// Verdict valid, answered with the earlier receipt for the same valid
    /// statement of the same tenant (a replay: nothing was verified).
    Replayed,
    /// Verdict invalid.
    Invalid,
    /// An error status, by its gRPC code name (REST statuses are mapped to the same names).
    Status(&'static str),
    /// The caller hung up; nothing came back.
    Gone,
}

impl Answer {
    /// The name reports use: `valid`, `invalid`, a gRPC code name, or `gone`.
    pub fn label(self) -> &'static str {
        match self {
            Answer::Valid => "valid",
            Answer::Replayed => "valid (replay)",
            Answer::Invalid => "invalid",
            Answer::Status(code) => code,
            Answer::Gone => "gone",
        }
    }

    /// Whether this answer is what a request expecting `expected` must get
    /// (a replay answers a request that expects `valid`).
    pub fn satisfies(self, expected: Answer) -> bool {
        self == expected || (self == Answer::Replayed && expected == Answer::Valid)
    }

    /// Whether the server itself failed (as opposed to refusing the request).
    pub fn is_server_fault(self) -> bool {
        matches!(
            self,
            Answer::Status(
                "INTERNAL" | "UNKNOWN" | "DATA_LOSS" | "UNAVAILABLE" | "DEADLINE_EXCEEDED"
            )
        )
    }
}

/// Shares of each [`Kind`], in parts (they need not add up to 100).
#[derive(Clone, Debug, PartialEq)]
pub struct Mix {
    parts: Vec<(Kind, f64)>,
}

/// A mix flag that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("mix `{0}`: expected kind=parts,... with kinds valid, invalid, malformed, repeated, oversized, over-quota, disconnect")]
pub struct MixError(String);

impl Mix {
    /// Valid proofs only.
    pub fn valid_only() -> Self {
        Self {
            parts: vec![(Kind::Valid, 1.0)],
        }
    }

    /// The chaos mix of the `pilot` scenario: mostly valid proofs, and some of
    /// every kind a partner's traffic brings.
    pub fn chaos() -> Self {
        "valid=88,invalid=3,malformed=1,garbled=1,repeated=3,oversized=1,over-quota=2,disconnect=1"
            .parse()
            .expect("the chaos mix parses")
    }

    /// The share of `kind` (0 to 1).
    pub fn share(&self, kind: Kind) -> f64 {
        let total: f64 = self.parts.iter().map(|(_, p)| p).sum();
        self.parts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0.0, |(_, p)| p / total)
    }

    /// Draws a kind with the mix's odds.
    pub fn draw(&self, rng: &mut impl Rng) -> Kind {
        let total: f64 = self.parts.iter().map(|(_, p)| p).sum();
        let mut x = rng.gen::<f64>() * total;
        for (kind, parts) in &self.parts {
            if x < *parts {
                return *kind;
            }
            x -= parts;
        }
        self.parts.last().map_or(Kind::Valid, |(k, _)| *k)
    }
}

impl FromStr for Mix {
    type Err = MixError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || MixError(text.to_string());
        let mut parts = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, value) = entry.split_once('=').ok_or_else(bad)?;
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.name() == name.trim())
                .ok_or_else(bad)?;
            let value: f64 = value.trim().parse().map_err(|_| bad())?;
            if !value.is_finite() || value < 0.0 || parts.iter().any(|(k, _)| *k == kind) {
                return Err(bad());
            }
            parts.push((kind, value));
        }
        if parts.iter().map(|(_, p)| p).sum::<f64>() <= 0.0 {
            return Err(bad());
        }
        Ok(Self { parts })
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: Vec<String> = self
            .parts
            .iter()
            .map(|(k, p)| format!("{}={p}", k.name()))
            .collect();
        f.write_str(&text.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parses_and_draws_with_the_given_odds() {
        let mix: Mix = "valid=3, invalid=1".parse().unwrap();
        assert_eq!(mix.share(Kind::Valid), 0.75);
        assert_eq!(mix.share(Kind::Malformed), 0.0);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let valid = (0..10_000)
            .filter(|_| mix.draw(&mut rng) == Kind::Valid)
            .count();
        assert!((7_200..7_800).contains(&valid), "{valid}");
        assert_eq!(mix.to_string().parse::<Mix>().unwrap(), mix);
    }

    #[test]
    fn refuses_unknown_kinds_negative_and_empty_mixes() {
        for bad in [
            "",
            "valid",
            "valid=x",
            "bogus=1",
            "valid=-1",
            "valid=0",
            "valid=1,valid=2",
        ] {
            assert!(bad.parse::<Mix>().is_err(), "{bad}");
        }
        assert!(Mix::chaos().share(Kind::Disconnect) > 0.0);
        assert!(Mix::chaos().share(Kind::Garbled) > 0.0);
    }

    #[test]
    fn expectations() {
        assert_eq!(Kind::Repeated.expected(), Answer::Valid);
        assert_eq!(Kind::Garbled.expected(), Answer::Status("INVALID_ARGUMENT"));
        assert_eq!(Kind::OverQuota.expected().label(), "RESOURCE_EXHAUSTED");
        assert!(Answer::Status("UNAVAILABLE").is_server_fault());
        assert!(!Answer::Status("INVALID_ARGUMENT").is_server_fault());
        assert!(Answer::Replayed.satisfies(Answer::Valid));
        assert!(!Answer::Replayed.satisfies(Answer::Invalid));
        assert!(!Answer::Valid.satisfies(Answer::Replayed));
    }
}
