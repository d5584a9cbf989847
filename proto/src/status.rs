//! The v1 status codes: their names, and the one table that maps each to its
//! gRPC code and HTTP status. The server answers through it and clients read
//! errors back through it, so a code means the same on either transport.
//!
//! | name                 | gRPC | HTTP | when                                           | retry |
//! |----------------------|------|------|------------------------------------------------|-------|
//! | `INVALID_ARGUMENT`   | 3    | 400  | a field is malformed (`field` names it)        | no    |
//! | `UNAUTHENTICATED`    | 16   | 401  | no API key, or an unknown one                  | no    |
//! | `PERMISSION_DENIED`  | 7    | 403  | the plan does not include the circuit          | no    |
//! | `NOT_FOUND`          | 5    | 404  | unknown verifying key or receipt               | no    |
//! | `OUT_OF_RANGE`       | 11   | 413  | the call is larger than the plan can need      | no    |
//! | `RESOURCE_EXHAUSTED` | 8    | 429  | request rate (retry-after) or daily quota      | rate only |
//! | `UNAVAILABLE`        | 14   | 503  | shedding load or shutting down (retry-after)   | yes   |
//! | `DEADLINE_EXCEEDED`  | 4    | 504  | the caller's deadline passed                   | no    |
//! | `INTERNAL`           | 13   | 500  | a fault on the server's side                   | no    |

/// The gRPC trailer (and HTTP header) with the seconds to wait before retrying.
pub const RETRY_AFTER: &str = "retry-after";
/// The gRPC trailer naming the offending field of an `INVALID_ARGUMENT`.
pub const FIELD: &str = "x-zktx-field";
/// The gRPC trailer saying why a `RESOURCE_EXHAUSTED` or `UNAVAILABLE` was
/// answered (a [`Reason`]'s name); REST error bodies carry it as `reason`.
pub const REASON: &str = "x-zktx-reason";
/// The HTTP header carrying a REST caller's deadline, in milliseconds.
pub const TIMEOUT_HEADER: &str = "x-zktx-timeout-ms";
/// The header echoing (or assigning) a request's id, on both transports.
pub const REQUEST_ID: &str = "x-request-id";

/// A status code of the v1 API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// A field of the request is malformed.
    InvalidArgument,
    /// No API key, or one that matches no tenant.
    Unauthenticated,
    /// The tenant's plan does not allow this.
    PermissionDenied,
    /// The named verifying key or receipt does not exist here.
    NotFound,
    /// The request is larger than the plan can need.
    OutOfRange,
    /// The request rate or the daily quota is exhausted.
    ResourceExhausted,
    /// The server is shedding load or shutting down.
    Unavailable,
    /// The caller's deadline passed.
    DeadlineExceeded,
    /// A fault on the server's side.
    Internal,
}

impl Code {
    /// Every code, in the table's order.
    pub const ALL: [Code; 9] = [
        Code::InvalidArgument,
        Code::Unauthenticated,
        Code::PermissionDenied,
        Code::NotFound,
        Code::OutOfRange,
        Code::ResourceExhausted,
        Code::Unavailable,
        Code::DeadlineExceeded,
        Code::Internal,
    ];

    /// The canonical name, e.g. `INVALID_ARGUMENT`: what error bodies carry.
    pub fn name(self) -> &'static str {
        grpc_code_name(self.grpc())
    }

    /// The gRPC code.
    pub fn grpc(self) -> tonic::Code {
        match self {
            Code::InvalidArgument => tonic::Code::InvalidArgument,
            Code::Unauthenticated => tonic::Code::Unauthenticated,
            Code::PermissionDenied => tonic::Code::PermissionDenied,
            Code::NotFound => tonic::Code::NotFound,
            Code::OutOfRange => tonic::Code::OutOfRange,
            Code::ResourceExhausted => tonic::Code::ResourceExhausted,
            Code::Unavailable => tonic::Code::Unavailable,
            Code::DeadlineExceeded => tonic::Code::DeadlineExceeded,
            Code::Internal => tonic::Code::Internal,
        }
    }

    /// The HTTP status.
    pub fn http(self) -> u16 {
        match self {
            Code::InvalidArgument => 400,
            Code::Unauthenticated => 401,
            Code::PermissionDenied => 403,
            Code::NotFound => 404,
            Code::OutOfRange => 413,
            Code::ResourceExhausted => 429,
            Code::Unavailable => 503,
            Code::DeadlineExceeded => 504,
            Code::Internal => 500,
        }
    }

    /// The code of a name, e.g. from an error body.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The code of a gRPC status, if the API uses it.
    pub fn from_grpc(code: tonic::Code) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.grpc() == code)
    }

    /// The code of an HTTP status, if the API uses it.
    pub fn from_http(status: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.http() == status)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call was refused for want of capacity: whether waiting helps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `RESOURCE_EXHAUSTED`: the plan's request rate; retry after `retry-after`.
    RateLimited,
    /// `RESOURCE_EXHAUSTED`: the plan's daily proof quota is spent; it refills
    /// at 00:00 UTC, so retrying sooner cannot help.
    QuotaExhausted,
    /// `UNAVAILABLE`: the verification queue is full; retry after `retry-after`.
    Overloaded,
    /// `UNAVAILABLE`: the server is draining; retry (another replica, or after restart).
    ShuttingDown,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 4] = [
        Reason::RateLimited,
        Reason::QuotaExhausted,
        Reason::Overloaded,
        Reason::ShuttingDown,
    ];

    /// The name on the wire, e.g. `RATE_LIMITED`.
    pub fn name(self) -> &'static str {
        match self {
            Reason::RateLimited => "RATE_LIMITED",
            Reason::QuotaExhausted => "QUOTA_EXHAUSTED",
            Reason::Overloaded => "OVERLOADED",
            Reason::ShuttingDown => "SHUTTING_DOWN",
        }
    }

    /// The reason of a name; `None` for an empty or unknown one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether a client may retry the call after waiting the advertised time.
    pub fn retryable(self) -> bool {
        !matches!(self, Reason::QuotaExhausted)
    }
}

/// The canonical upper-case name of any gRPC code.
pub fn grpc_code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_its_own_pair_and_round_trips() {
        let mut grpc = std::collections::HashSet::new();
        let mut http = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(grpc.insert(code.grpc() as i32), "{code}");
            assert!(http.insert(code.http()), "{code}");
            assert_eq!(Code::from_name(code.name()), Some(code));
            assert_eq!(Code::from_grpc(code.grpc()), Some(code));
            assert_eq!(Code::from_http(code.http()), Some(code));
        }
        assert_eq!(Code::InvalidArgument.grpc() as i32, 3);
        assert_eq!(Code::OutOfRange.http(), 413);
        assert_eq!(Code::from_name("OK"), None);
        assert_eq!(Code::from_grpc(tonic::Code::Aborted), None);
        for reason in Reason::ALL {
            assert_eq!(Reason::from_name(reason.name()), Some(reason));
        }
        assert!(!Reason::QuotaExhausted.retryable() && Reason::RateLimited.retryable());
    }
}
