//! The one error type of the `app` layer: what a server function can answer and what a page can
//! show. Bad input carries field-level messages; internal faults carry nothing but a generic
//! sentence (the details were logged on the server).

use crate::domain::FieldErrors;
use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

mod server_fn_error {
    pub use leptos::server_fn::{
        codec::JsonEncoding,
        error::{FromServerFnError, ServerFnErrorErr},
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthenticated,
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("Invalid username or password.")]
    BadCredentials,
    #[error("Too many failed sign-in attempts. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("The request could not be understood.")]
    BadRequest,
    #[error("The request is too large: at most {limit_kib} KiB can be sent at once.")]
    TooLarge { limit_kib: u32 },
    #[error("The request took too long to arrive. Check your connection and try again.")]
    TimedOut,
    #[error("Too many requests at once. Try again in a moment.")]
    Busy,
    #[error("The service is busy or restarting. Try again in a moment.")]
    Unavailable,
    #[error("The server could not be reached. Check your connection and try again.")]
    Unreachable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// `Internal`, as a person sees it: with the reference of the request (its
    /// `X-Request-Id`), which finds its lines in the server's log.
    #[error(
        "Something went wrong on our side. Please try again; if it happens again, quote the reference {0}."
    )]
    InternalReference(String),
}

/// The id of the request being answered (`X-Request-Id`), as the server puts it on the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(FieldErrors::single(field, message))
    }

    /// The HTTP status a server function answers with this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated | Self::BadCredentials => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::Invalid(_) => 422,
            Self::Throttled { .. } => 429,
            Self::BadRequest => 400,
            Self::TooLarge { .. } => 413,
            Self::TimedOut => 408,
            Self::Busy => 429,
            Self::Unavailable | Self::Unreachable => 503,
            Self::Internal | Self::InternalReference(_) => 500,
        }
    }

    /// The message for one form field, when this error rejected that field.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid(errors) => errors.get(field).map(str::to_owned),
            _ => None,
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// `Internal` with the reference of the request being answered (when there is one), so
    /// that a person can quote it; any other error as it is.
    pub fn referenced(self) -> Self {
        use leptos::prelude::use_context;
        match self {
            Self::Internal => use_context::<http::request::Parts>()
                .and_then(|p| p.extensions.get::<RequestId>().cloned())
                .map_or(Self::Internal, |id| Self::InternalReference(id.0)),
            other => other,
        }
    }

    /// Sets the status (and `Retry-After`) of a server function's HTTP answer for this error.
    /// While a page is rendered on the server, its data calls leave the page's status alone
    /// (the page decides it: a redirect to sign-in, a 403, a 404).
    pub fn set_response_status(&self) {
        use leptos::prelude::use_context;
        let is_call = use_context::<http::request::Parts>()
            .is_some_and(|p| p.uri.path().starts_with("/api/"));
        let Some(res) = use_context::<leptos_axum::ResponseOptions>().filter(|_| is_call) else {
            return;
        };
        res.set_status(
            http::StatusCode::from_u16(self.status())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
        let retry_after = match self {
            Self::Throttled { retry_after_secs } => Some(*retry_after_secs),
            Self::Busy | Self::Unavailable => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(v) = http::HeaderValue::from_str(&secs.to_string())
        {
            res.insert_header(http::header::RETRY_AFTER, v);
        }
    }
}

/// A repository's answer as the caller sees it: a conflict names the field it rejects;
/// internal faults carry nothing (the repository logged them).
#[cfg(feature = "ssr")]
impl From<crate::ports::RepoError> for AppError {
    fn from(e: crate::ports::RepoError) -> Self {
        use crate::ports::RepoError;
        match e {
            RepoError::NotFound => Self::NotFound,
            RepoError::Conflict { field, message } => Self::field(field, message),
            RepoError::Busy => Self::Busy,
            RepoError::Internal => Self::Internal.referenced(),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl FromServerFnError for AppError {
    type Encoder = server_fn_error::JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            // the browser could not reach us: say so, without internals
            ServerFnErrorErr::Request(_) => Self::Unreachable,
            // bad arguments from a caller: a 400, never the decoder's text
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::BadRequest,
            // on the server this is a request body its codec cannot read (bad input); in the
            // browser, an answer it cannot read (our fault)
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => Self::BadRequest,
            _ => Self::Internal,
        };
        // on the server this runs while answering the call: give the answer the right status
        #[cfg(feature = "ssr")]
        error.set_response_status();
        error
    }

    /// Runs on the server for every error a server function answers, just before it is sent:
    /// the one place an error becomes its HTTP status.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        let referenced = self.clone().referenced();
        #[cfg(feature = "ssr")]
        let this = &referenced;
        #[cfg(not(feature = "ssr"))]
        let this = self;
        #[cfg(feature = "ssr")]
        this.set_response_status();
        use leptos::server_fn::Encodes;
        <server_fn_error::JsonEncoding as Encodes<Self>>::encode(this)
            .unwrap_or_else(|_| leptos::server_fn::Bytes::from_static(br#""Internal""#))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        assert_eq!(AppError::Unauthenticated.status(), 401);
        assert_eq!(AppError::Forbidden.status(), 403);
        assert_eq!(
            AppError::Throttled {
                retry_after_secs: 42
            }
            .status(),
            429
        );
        assert_eq!(
            AppError::Throttled {
                retry_after_secs: 42
            }
            .to_string(),
            "Too many failed sign-in attempts. Try again in 42 seconds."
        );
        let e = AppError::field("username", "Enter a username.");
        assert_eq!(e.status(), 422);
        assert_eq!(
            e.field_message("username").as_deref(),
            Some("Enter a username.")
        );
        assert_eq!(e.field_message("password"), None);
    }

    #[test]
    fn framework_errors_never_carry_internal_text() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Args(
            "missing field `secret_column` at line 1".into(),
        ));
        assert_eq!(e, AppError::BadRequest);
        #[cfg(feature = "ssr")]
        assert_eq!(
            AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
                "expected value at line 1 column 1".into()
            )),
            AppError::BadRequest
        );
        let e = AppError::from_server_fn_error(ServerFnErrorErr::ServerError("db locked".into()));
        assert_eq!(
            e.to_string(),
            "Something went wrong on our side. Please try again."
        );
    }
}
