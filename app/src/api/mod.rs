//! Server functions, one file per area. Each is thin: session -> parse -> port -> error.

/// The session keys of a signed-in account (also read by the server's download route).
pub const SESSION_USER: &str = "uid";
pub const SESSION_EPOCH: &str = "epoch";

pub mod auth;
pub mod certificates;
pub mod channels;
pub mod exports;
pub mod org;
pub mod service_time;
pub mod system;

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    //! What every server function uses: the ports, the session, the caller and the answer's
    //! status.
    use crate::error::AppError;
    use crate::model::{Me, Role};
    use crate::ports::{ClientAddr, Ports, Principal, RepoError};
    use http::request::Parts;
    use leptos::prelude::*;
    use tower_sessions::Session;

    use super::{SESSION_EPOCH, SESSION_USER};

    pub fn ports() -> Result<Ports, AppError> {
        use_context::<Ports>().ok_or_else(|| {
            tracing::error!("Ports not provided as context");
            AppError::Internal
        })
    }

    fn parts() -> Result<Parts, AppError> {
        use_context::<Parts>().ok_or_else(|| {
            tracing::error!("request parts not provided as context");
            AppError::Internal
        })
    }

    pub fn session() -> Result<Session, AppError> {
        parts()?
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!("no session layer in front of server functions");
                AppError::Internal
            })
    }

    pub fn client_addr() -> Result<ClientAddr, AppError> {
        parts()?
            .extensions
            .get::<ClientAddr>()
            .copied()
            .ok_or_else(|| {
                tracing::error!("no client address in request extensions");
                AppError::Internal
            })
    }

    pub fn session_error(e: tower_sessions::session::Error) -> AppError {
        tracing::error!(error = %e, "session store");
        AppError::Internal
    }

    pub fn repo(e: RepoError) -> AppError {
        match e {
            RepoError::NotFound => AppError::NotFound,
            RepoError::Conflict { field, message } => AppError::field(field, message),
            RepoError::Internal => AppError::Internal,
        }
    }

    /// The signed-in account, if the session names one that is still valid.
    pub async fn current() -> Result<Option<Principal>, AppError> {
        let session = session()?;
        let Some(user_id) = session
            .get::<i64>(SESSION_USER)
            .await
            .map_err(session_error)?
        else {
            return Ok(None);
        };
        let epoch = session
            .get::<i64>(SESSION_EPOCH)
            .await
            .map_err(session_error)?;
        let principal = ports()?.accounts.principal(user_id).await.map_err(repo)?;
        match principal {
            Some(p) if Some(p.epoch) == epoch => Ok(Some(p)),
            // the account is gone, its tenant disabled, or its password was reset since
            _ => {
                session.flush().await.map_err(session_error)?;
                Ok(None)
            }
        }
    }

    pub async fn require_user() -> Result<Me, AppError> {
        current()
            .await?
            .map(|p| p.me)
            .ok_or(AppError::Unauthenticated)
    }

    pub async fn require_role(role: Role) -> Result<Me, AppError> {
        let me = require_user().await?;
        if me.role == role {
            Ok(me)
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub async fn require_system() -> Result<Me, AppError> {
        require_role(Role::SystemAdmin).await
    }

    /// A tenant administrator's tenant id: what every tenant-scoped call is scoped by.
    pub async fn require_tenant() -> Result<i64, AppError> {
        let me = require_role(Role::TenantAdmin).await?;
        me.tenant_id.ok_or_else(|| {
            tracing::error!(
                user_id = me.user_id,
                "tenant administrator without a tenant"
            );
            AppError::Internal
        })
    }

    /// Starts a fresh session for `principal`: a new id, so a session id known before sign-in
    /// is worthless after it.
    pub async fn sign_in(principal: &Principal) -> Result<(), AppError> {
        let session = session()?;
        session.cycle_id().await.map_err(session_error)?;
        session
            .insert(SESSION_USER, principal.me.user_id)
            .await
            .map_err(session_error)?;
        session
            .insert(SESSION_EPOCH, principal.epoch)
            .await
            .map_err(session_error)?;
        Ok(())
    }

    /// Sets the answer's HTTP status from the error, so callers other than our pages (scripts,
    /// tests, proxies) see 401/403/422/429 rather than a generic 500.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result {
            e.set_response_status();
        }
        result
    }

    /// A path on this site to go to after sign-in; anything else falls back to `default`.
    pub fn local_path(next: Option<&str>, default: &str) -> String {
        match next {
            Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => {
                p.to_owned()
            }
            _ => default.to_owned(),
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn local_path_only_allows_this_site() {
            use super::local_path;
            assert_eq!(local_path(Some("/config/ous"), "/h"), "/config/ous");
            assert_eq!(local_path(Some("//evil.test/x"), "/h"), "/h");
            assert_eq!(local_path(Some("https://evil.test"), "/h"), "/h");
            assert_eq!(local_path(Some("/\\evil.test"), "/h"), "/h");
            assert_eq!(local_path(None, "/h"), "/h");
        }
    }
}
