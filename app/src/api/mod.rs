//! Server functions, one file per area. Each is thin: session -> parse -> port -> error.

/// The session keys of a signed-in account (also read by the server's download route).
pub const SESSION_USER: &str = "uid";
pub const SESSION_EPOCH: &str = "epoch";
/// The cookie of a browser that signed in before (see `ports::LoginThrottle`).
pub const DEVICE_COOKIE: &str = "switchboard_device";

pub mod alerts;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod channels;
pub mod exports;
pub mod imports;
pub mod org;
pub mod service_time;
pub mod system;

/// The caller of a server function that needs a sign-in, resolved by the server before the
/// request's body was read (nothing shared is taken for a caller who is not signed in); a
/// server function uses it instead of resolving the session again.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct SignedIn(pub crate::ports::Principal);

/// The signed-in account of a session, if the session names one that is still valid (the
/// account exists, its tenant is enabled, and its password was not reset since). Used by the
/// server functions, the page guard and the download route alike.
#[cfg(feature = "ssr")]
pub async fn signed_in(
    session: &tower_sessions::Session,
    accounts: &dyn crate::ports::Accounts,
) -> Result<Option<crate::ports::Principal>, crate::error::AppError> {
    let error = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store");
        crate::error::AppError::Internal
    };
    let Some(user_id) = session.get::<i64>(SESSION_USER).await.map_err(error)? else {
        return Ok(None);
    };
    let epoch = session.get::<i64>(SESSION_EPOCH).await.map_err(error)?;
    match accounts.principal(user_id).await? {
        Some(p) if Some(p.epoch) == epoch => Ok(Some(p)),
        // the account is gone, its tenant disabled, or its password was reset since
        _ => {
            session.flush().await.map_err(error)?;
            Ok(None)
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    //! What every server function uses: the ports, the session and the caller. Errors become
    //! HTTP statuses in one place (`AppError::ser`).
    use crate::error::AppError;
    use crate::model::{Me, Role};
    use crate::ports::{Actor, ClientAddr, Ports, Principal};
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

    /// The signed-in account, if the session names one that is still valid (resolved by the
    /// server before the body was read, or now).
    pub async fn current() -> Result<Option<Principal>, AppError> {
        if let Some(resolved) = parts()?.extensions.get::<super::SignedIn>() {
            return Ok(Some(resolved.0.clone()));
        }
        super::signed_in(&session()?, ports()?.accounts.as_ref()).await
    }

    /// Whether the caller is still signed in as `user_id`, asked of the session and the
    /// account again (not of what was resolved when the request began): for what a long
    /// request did before it is committed.
    pub async fn still_signed_in_as(user_id: Option<i64>) -> Result<(), AppError> {
        let session = session()?;
        // what the store holds now (signed out elsewhere meanwhile?), not what this request
        // read when it began
        session.load().await.map_err(session_error)?;
        match super::signed_in(&session, ports()?.accounts.as_ref()).await? {
            Some(p) if Some(p.me.user_id) == user_id => Ok(()),
            _ => Err(AppError::Unauthenticated),
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

    /// Who the caller is, for the audit entry of what they change.
    pub fn actor_of(me: &Me) -> Actor {
        Actor::of(me, client_addr().ok().map(|c| c.0))
    }

    /// A tenant administrator's tenant id and the caller as an actor.
    pub async fn tenant_actor() -> Result<(i64, Actor), AppError> {
        let me = require_role(Role::TenantAdmin).await?;
        let actor = actor_of(&me);
        let tenant = me.tenant_id.ok_or_else(|| {
            tracing::error!(
                user_id = me.user_id,
                "tenant administrator without a tenant"
            );
            AppError::Internal
        })?;
        Ok((tenant, actor))
    }

    /// The system administrator as an actor.
    pub async fn system_actor() -> Result<Actor, AppError> {
        Ok(actor_of(&require_system().await?))
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

    /// Sends the caller to `path` after the call: only a path of this site, written as a valid
    /// header value (`leptos_axum::redirect` panics on anything else); anything else goes to `/`.
    pub fn redirect(path: &str) {
        let safe = ports()
            .ok()
            .and_then(|p| crate::domain::redirect::local_target(path, &p.public_url));
        match safe {
            Some(target) => leptos_axum::redirect(&target),
            None => {
                tracing::error!("refused to redirect to a path that is not this site's");
                leptos_axum::redirect("/");
            }
        }
    }

    /// The value of the request's cookie `name`, if it has one.
    pub fn cookie(name: &str) -> Result<Option<String>, AppError> {
        Ok(parts()?
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned()))
    }

    /// Marks the answer as holding secrets: never stored, never compressed (a compressed
    /// secret beside attacker-chosen text gives itself away by its length: BREACH). The
    /// server also marks these answers by path; this holds however the path was spelled.
    pub fn holds_secrets() {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.insert_header(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store, no-transform"),
            );
        }
    }

    /// Adds a `Set-Cookie` to the answer: HttpOnly, SameSite=Lax, for the whole site.
    pub fn set_cookie(name: &str, value: &str, max_age_secs: u64, secure: bool) {
        let Some(res) = use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        let line = format!(
            "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
            if secure { "; Secure" } else { "" }
        );
        match http::HeaderValue::from_str(&line) {
            Ok(v) => res.append_header(http::header::SET_COOKIE, v),
            Err(_) => tracing::error!("refused to set a cookie that is not a valid header"),
        }
    }
}
