//! The request log's idea of a failure: a server error, except on `/healthz` and `/readyz`,
//! whose 503 is an answer (the instance is draining, or cannot reach its database), given to a
//! load balancer that asks every half second — not a fault to log at ERROR each time.

use std::fmt::Display;
use tower_http::classify::{
    ClassifiedResponse, ClassifyResponse, MakeClassifier, NeverClassifyEos, ServerErrorsAsFailures,
    ServerErrorsFailureClass,
};
use tower_http::trace::MakeSpan;

/// Makes a `Classify` per request, knowing its path.
#[derive(Clone, Copy, Debug, Default)]
pub struct QuietHealth;

/// `ServerErrorsAsFailures`, or nothing a failure for a health route.
#[derive(Clone, Copy, Debug)]
pub struct Classify {
    health: bool,
}

/// Whether `path` is one of the health routes.
fn is_health(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

impl MakeClassifier for QuietHealth {
    type Classifier = Classify;
    type FailureClass = ServerErrorsFailureClass;
    type ClassifyEos = NeverClassifyEos<ServerErrorsFailureClass>;

    fn make_classifier<B>(&self, req: &axum::http::Request<B>) -> Classify {
        Classify {
            health: is_health(req.uri().path()),
        }
    }
}

impl ClassifyResponse for Classify {
    type FailureClass = ServerErrorsFailureClass;
    type ClassifyEos = NeverClassifyEos<ServerErrorsFailureClass>;

    fn classify_response<B>(
        self,
        res: &axum::http::Response<B>,
    ) -> ClassifiedResponse<Self::FailureClass, Self::ClassifyEos> {
        if self.health {
            ClassifiedResponse::Ready(Ok(()))
        } else {
            ServerErrorsAsFailures::new().classify_response(res)
        }
    }

    fn classify_error<E: Display + 'static>(self, error: &E) -> Self::FailureClass {
        ServerErrorsAsFailures::new().classify_error(error)
    }
}

/// The span every line logged while answering a request is in: its id (`X-Request-Id`), its
/// method and its route template. Never its path or query, which may hold a webhook key or a
/// verification token.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> tracing::Span {
        let id = req
            .extensions()
            .get::<app::RequestId>()
            .map_or("", |r| r.0.as_str());
        let route = crate::metrics::route_of(req);
        tracing::info_span!("request", id = %id, method = %req.method(), route = %route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(path: &str, status: u16) -> bool {
        let req = axum::http::Request::get(path).body(()).unwrap();
        let res = axum::http::Response::builder()
            .status(status)
            .body(())
            .unwrap();
        match QuietHealth.make_classifier(&req).classify_response(&res) {
            ClassifiedResponse::Ready(r) => r.is_err(),
            ClassifiedResponse::RequiresEos(_) => unreachable!("never for these"),
        }
    }

    #[test]
    fn a_health_route_503_is_an_answer_and_any_other_5xx_a_failure() {
        assert!(!failed("/readyz", 503));
        assert!(!failed("/healthz", 503));
        assert!(failed("/api/login", 500));
        assert!(failed("/readyz/x", 503));
        assert!(!failed("/api/login", 429));
    }
}
