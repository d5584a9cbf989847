//! Every way a request can fail, and the one place that maps each to its gRPC
//! code and HTTP status. Both front ends (gRPC and REST) answer through here,
//! so a partner sees the same code, field and message on either.

use std::time::Duration;

use zktx_proto::status::{Code, Reason};

/// A request-level failure, safe to show to the caller: messages never carry
/// set members, salts, proof bytes or API keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No API key, or one that matches no tenant.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The tenant's plan does not allow this.
    #[error("{0}")]
    PermissionDenied(String),
    /// A field of the request is malformed; `field` names it.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The offending field, e.g. `proof` or `public_inputs.k`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// The request body is larger than the caller's plan can need.
    #[error("the request is larger than the {limit_bytes} bytes a call may carry on this plan; send fewer proofs per call")]
    PayloadTooLarge {
        /// The most bytes the call may carry.
        limit_bytes: u64,
    },
    /// The named thing (verifying key, receipt) does not exist here.
    #[error("{0}")]
    NotFound(String),
    /// The tenant's request rate is exceeded; retry after the given time.
    #[error("request rate of plan `{plan}` exceeded; retry in {retry_after:?}")]
    RateLimited {
        /// The tenant's plan.
        plan: String,
        /// When the next request will be admitted.
        retry_after: Duration,
    },
    /// The tenant's daily proof quota is used up; it refills at 00:00 UTC.
    #[error("daily quota of {limit} proofs for plan `{plan}` is used up; it refills at 00:00 UTC")]
    QuotaExhausted {
        /// The tenant's plan.
        plan: String,
        /// The plan's daily proof quota.
        limit: u64,
        /// Time until the quota refills.
        retry_after: Duration,
    },
    /// The verification queue is full: the server is shedding load.
    #[error("server busy: the verification queue is full; retry shortly")]
    Overloaded,
    /// The server is shutting down and accepts no new work.
    #[error("server is shutting down")]
    ShuttingDown,
    /// The caller's deadline passed before the proof was verified.
    #[error("deadline exceeded before verification finished")]
    DeadlineExceeded,
    /// A fault on the server's side (storage); nothing was lost that was acknowledged.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a shed caller is asked to wait before retrying.
const OVERLOAD_RETRY: Duration = Duration::from_secs(1);

impl ApiError {
    /// Shorthand for [`ApiError::InvalidArgument`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The API status code (`zktx_proto::status`, which maps it to gRPC and HTTP).
    pub fn code(&self) -> Code {
        match self {
            Self::Unauthenticated(_) => Code::Unauthenticated,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::InvalidArgument { .. } => Code::InvalidArgument,
            Self::NotFound(_) => Code::NotFound,
            Self::PayloadTooLarge { .. } => Code::OutOfRange,
            Self::RateLimited { .. } | Self::QuotaExhausted { .. } => Code::ResourceExhausted,
            Self::Overloaded | Self::ShuttingDown => Code::Unavailable,
            Self::DeadlineExceeded => Code::DeadlineExceeded,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// The gRPC status code.
    pub fn grpc_code(&self) -> tonic::Code {
        self.code().grpc()
    }

    /// The HTTP status.
    pub fn http_status(&self) -> axum::http::StatusCode {
        axum::http::StatusCode::from_u16(self.code().http())
            .expect("the API's HTTP statuses are valid")
    }

    /// Why capacity refused the call, for the codes where it tells a client
    /// whether waiting helps.
    pub fn reason(&self) -> Option<Reason> {
        Some(match self {
            Self::RateLimited { .. } => Reason::RateLimited,
            Self::QuotaExhausted { .. } => Reason::QuotaExhausted,
            Self::Overloaded => Reason::Overloaded,
            Self::ShuttingDown => Reason::ShuttingDown,
            _ => return None,
        })
    }

    /// The error as a REST body (also a batch item's error).
    pub fn body(&self) -> zktx_proto::rest::ErrorBody {
        zktx_proto::rest::ErrorBody {
            code: self.code_name().to_string(),
            field: self.field().map(str::to_string),
            message: self.to_string(),
            retry_after_secs: self.retry_after_secs(),
            reason: self.reason().map(|r| r.name().to_string()),
        }
    }

    /// Whole seconds the caller should wait before retrying, when retrying can help.
    pub fn retry_after_secs(&self) -> Option<u64> {
        let wait = match self {
            Self::RateLimited { retry_after, .. } | Self::QuotaExhausted { retry_after, .. } => {
                *retry_after
            }
            Self::Overloaded | Self::ShuttingDown => OVERLOAD_RETRY,
            _ => return None,
        };
        // Round up: a client that waits the advertised time must be admitted.
        Some(wait.as_millis().div_ceil(1000).max(1) as u64)
    }

    /// The offending field, for [`ApiError::InvalidArgument`].
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidArgument { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The code's canonical name, e.g. `INVALID_ARGUMENT`.
    pub fn code_name(&self) -> &'static str {
        self.code().name()
    }

    /// The error as a gRPC status: `retry-after` (seconds) and `x-zktx-field`
    /// ride in the trailers.
    pub fn to_status(&self) -> tonic::Status {
        let mut status = tonic::Status::new(self.grpc_code(), self.to_string());
        if let Some(secs) = self.retry_after_secs() {
            status.metadata_mut().insert(
                zktx_proto::status::RETRY_AFTER,
                secs.to_string().parse().expect("digits are ASCII"),
            );
        }
        if let Some(reason) = self.reason() {
            status.metadata_mut().insert(
                zktx_proto::status::REASON,
                tonic::metadata::MetadataValue::from_static(reason.name()),
            );
        }
        if let Some(field) = self.field() {
            if let Ok(value) = field.parse() {
                status
                    .metadata_mut()
                    .insert(zktx_proto::status::FIELD, value);
            }
        }
        status
    }
}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let body = self.body();
        let mut response = (self.http_status(), axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                secs.to_string().parse().expect("digits are ASCII"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_own_pair_of_codes() {
        let cases = [
            (ApiError::Unauthenticated("x"), 16, 401),
            (ApiError::PermissionDenied("x".into()), 7, 403),
            (ApiError::invalid("proof", "short"), 3, 400),
            (ApiError::NotFound("x".into()), 5, 404),
            (ApiError::PayloadTooLarge { limit_bytes: 9 }, 11, 413),
            (
                ApiError::RateLimited {
                    plan: "p".into(),
                    retry_after: Duration::from_millis(10),
                },
                8,
                429,
            ),
            (ApiError::Overloaded, 14, 503),
            (ApiError::DeadlineExceeded, 4, 504),
            (ApiError::Internal("x".into()), 13, 500),
        ];
        for (error, grpc, http) in cases {
            assert_eq!(error.grpc_code() as i32, grpc, "{error:?}");
            assert_eq!(error.http_status().as_u16(), http, "{error:?}");
        }
    }

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one_second() {
        let limited = ApiError::RateLimited {
            plan: "p".into(),
            retry_after: Duration::from_millis(1001),
        };
        assert_eq!(limited.retry_after_secs(), Some(2));
        let status = limited.to_status();
        assert_eq!(status.metadata().get("retry-after").unwrap(), "2");
        assert_eq!(ApiError::invalid("a", "b").retry_after_secs(), None);
    }
}
