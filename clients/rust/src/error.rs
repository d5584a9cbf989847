//! The client's one error type, the same on both transports.

use std::time::Duration;

use zktx_proto::rest::ErrorBody;
use zktx_proto::status::{Code, Reason};

/// Why a call failed: the API's status code, the offending field, a message a
/// partner can act on and, when waiting helps, how long to wait.
///
/// Failures that never reached an answer are mapped onto the same codes: a
/// server that cannot be reached is `UNAVAILABLE`, a deadline that passes on
/// this side is `DEADLINE_EXCEEDED`, a proof that cannot be sent (bad base64 in
/// a proof file) is `INVALID_ARGUMENT` with its field, and an answer that does
/// not parse is `INTERNAL`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    /// The status code.
    pub code: Code,
    /// The offending field, for `INVALID_ARGUMENT` (e.g. `proof`, `items[3].public_inputs.k`).
    pub field: Option<String>,
    /// What went wrong, never echoing a value that was sent.
    pub message: String,
    /// How long the server asked the caller to wait before retrying.
    pub retry_after: Option<Duration>,
    /// Why a `RESOURCE_EXHAUSTED` or `UNAVAILABLE` was answered.
    pub reason: Option<Reason>,
}

impl Error {
    /// An error with a code and a message only.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            field: None,
            message: message.into(),
            retry_after: None,
            reason: None,
        }
    }

    /// Whether waiting and calling again can succeed: `UNAVAILABLE`, and
    /// `RESOURCE_EXHAUSTED` for the request rate (a spent daily quota is not
    /// retried: it refills at 00:00 UTC).
    pub fn is_retryable(&self) -> bool {
        match self.code {
            Code::Unavailable => true,
            Code::ResourceExhausted => self.reason.is_some_and(Reason::retryable),
            _ => false,
        }
    }

    /// The error of item `i` of a batch call whose first item is the
    /// caller's `offset`-th proof: a field naming the call's item
    /// (`items[i]...`) names the caller's (`items[offset + i]...`).
    pub(crate) fn reindexed(mut self, offset: usize) -> Self {
        if let Some(field) = &self.field {
            if let Some((index, rest)) = field
                .strip_prefix("items[")
                .and_then(|tail| tail.split_once(']'))
                .and_then(|(n, rest)| Some((n.parse::<usize>().ok()?, rest)))
            {
                self.field = Some(format!("items[{}]{rest}", index + offset));
            }
        }
        self
    }

    /// The error of a gRPC status, its trailers included.
    pub(crate) fn from_status(status: &tonic::Status) -> Self {
        let text = |name: &str| {
            status
                .metadata()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Self {
            code: Code::from_grpc(status.code()).unwrap_or(match status.code() {
                // Transport failures below the API: the call may be retried.
                tonic::Code::Unknown | tonic::Code::Cancelled => Code::Unavailable,
                _ => Code::Internal,
            }),
            field: text(zktx_proto::status::FIELD),
            message: status.message().to_string(),
            retry_after: text(zktx_proto::status::RETRY_AFTER)
                .and_then(|s| s.parse().ok())
                .map(Duration::from_secs),
            reason: text(zktx_proto::status::REASON).and_then(|r| Reason::from_name(&r)),
        }
    }

    /// The error of a REST error body (also a batch item's), or of the bare
    /// HTTP status when the body is not one.
    pub(crate) fn from_body(status: u16, body: Option<ErrorBody>) -> Self {
        match body {
            Some(body) => Self {
                code: Code::from_name(&body.code)
                    .or_else(|| Code::from_http(status))
                    .unwrap_or(Code::Internal),
                field: body.field,
                message: body.message,
                retry_after: body.retry_after_secs.map(Duration::from_secs),
                reason: body.reason.as_deref().and_then(Reason::from_name),
            },
            None => Self::new(
                Code::from_http(status).unwrap_or(Code::Internal),
                format!("HTTP {status} without an error body"),
            ),
        }
    }

    /// The error of a batch item over gRPC.
    pub(crate) fn from_item(item: zktx_proto::v1::ItemError) -> Self {
        Self {
            code: Code::from_name(&item.code).unwrap_or(Code::Internal),
            field: (!item.field.is_empty()).then_some(item.field),
            message: item.message,
            retry_after: None,
            reason: Reason::from_name(&item.reason),
        }
    }

    /// An answer that does not have the API's shape.
    pub(crate) fn malformed(what: &str) -> Self {
        Self::new(
            Code::Internal,
            format!("the server's answer is malformed: {what}"),
        )
    }

    /// The call's deadline passed on this side.
    pub(crate) fn deadline() -> Self {
        Self::new(
            Code::DeadlineExceeded,
            "the call's deadline passed before the server answered",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_fields_name_the_callers_index() {
        let mut e = Error::new(Code::InvalidArgument, "bad");
        e.field = Some("items[1].public_inputs.k".into());
        assert_eq!(
            e.clone().reindexed(8).field.as_deref(),
            Some("items[9].public_inputs.k")
        );
        e.field = Some("proof".into());
        assert_eq!(e.reindexed(8).field.as_deref(), Some("proof"));
    }

    #[test]
    fn only_unavailable_and_rate_limits_are_retried() {
        let mut error = Error::new(Code::ResourceExhausted, "x");
        assert!(
            !error.is_retryable(),
            "no reason: not known to be a rate limit"
        );
        error.reason = Some(Reason::RateLimited);
        assert!(error.is_retryable());
        error.reason = Some(Reason::QuotaExhausted);
        assert!(!error.is_retryable());
        assert!(Error::new(Code::Unavailable, "x").is_retryable());
        assert!(!Error::deadline().is_retryable());
        assert!(!Error::new(Code::InvalidArgument, "x").is_retryable());
    }

    #[test]
    fn statuses_and_bodies_carry_field_wait_and_reason() {
        let mut status = tonic::Status::resource_exhausted("daily quota used up");
        status
            .metadata_mut()
            .insert(zktx_proto::status::RETRY_AFTER, "7".parse().unwrap());
        status.metadata_mut().insert(
            zktx_proto::status::REASON,
            "QUOTA_EXHAUSTED".parse().unwrap(),
        );
        let error = Error::from_status(&status);
        assert_eq!(error.code, Code::ResourceExhausted);
        assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(error.reason, Some(Reason::QuotaExhausted));
        let body = ErrorBody {
            code: "INVALID_ARGUMENT".into(),
            field: Some("proof".into()),
            message: "m".into(),
            retry_after_secs: None,
            reason: None,
        };
        let error = Error::from_body(400, Some(body));
        assert_eq!(
            (error.code, error.field.as_deref()),
            (Code::InvalidArgument, Some("proof"))
        );
        assert_eq!(Error::from_body(503, None).code, Code::Unavailable);
    }
}
