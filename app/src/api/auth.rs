//! Signing in and out, the first-run setup, and who is signed in.

use crate::error::AppError;
use crate::model::{Me, SetupStatus};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ctx;
#[cfg(feature = "ssr")]
use crate::domain::audit::{AuditAction, ObjectKind};
#[cfg(feature = "ssr")]
use crate::ports::{Actor, AuditEvent};

/// The entry of a sign-in, sign-out or refused sign-in: about the account, in its tenant.
#[cfg(feature = "ssr")]
fn account_event(action: AuditAction, me: Option<&Me>, name: &str) -> AuditEvent {
    AuditEvent::new(
        action,
        me.and_then(|m| m.tenant_id),
        ObjectKind::Account,
        me.map(|m| m.user_id),
        name,
    )
}

/// The signed-in account, or `None`. Never fails for a signed-out caller.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(ctx::current().await?.map(|p| p.me))
}

#[server(endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let ports = ctx::ports()?;
    let client = ctx::client_addr()?.0;
    // reserved (and counted) before the password is checked: parallel attempts cannot all
    // pass the check before the first failure is recorded
    let device = ctx::cookie(super::DEVICE_COOKIE)?;
    let attempt = ports
        .throttle
        .reserve(client, &username, device.as_deref())
        .await?
        .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;
    let principal = match ports.accounts.authenticate(&username, &password).await {
        Ok(p) => p,
        Err(e) => {
            // the password was not checked (busy or a fault): the attempt does not count
            ports.throttle.settle(attempt, true).await;
            return Err(e.into());
        }
    };
    let Some(principal) = principal else {
        ports.throttle.settle(attempt, false).await;
        tracing::info!(%client, "sign-in refused");
        // the throttle above bounds how many of these one address can write; a name no
        // account has is not kept (it may be a password typed into the wrong field)
        let known = ports.accounts.username_exists(&username).await?;
        let typed = if known {
            username.as_str()
        } else {
            crate::domain::audit::UNKNOWN_USERNAME
        };
        let actor = Actor::anonymous(typed, Some(client));
        ports
            .audit
            .record(
                &actor,
                account_event(AuditAction::SignInRefused, None, &actor.username),
            )
            .await?;
        return Err(AppError::BadCredentials);
    };
    ports.throttle.settle(attempt, true).await;
    // no sign-in without its entry
    let me = &principal.me;
    ports
        .audit
        .record(
            &Actor::of(me, Some(client)),
            account_event(AuditAction::SignIn, Some(me), &me.username),
        )
        .await?;
    ctx::sign_in(&principal).await?;
    // this browser is known for this account from now on: guesses at the account from
    // elsewhere do not lock it out
    ctx::set_cookie(
        super::DEVICE_COOKIE,
        &ports.throttle.device_token(&username),
        crate::ports::DEVICE_TOKEN_DAYS * 24 * 3600,
        ports.public_url.scheme() == "https",
    );
    tracing::info!(user_id = principal.me.user_id, %client, "signed in");
    let target = next
        .as_deref()
        .filter(|_| principal.me.role == crate::model::Role::TenantAdmin)
        .and_then(|n| crate::domain::redirect::local_target(n, &ports.public_url));
    ctx::redirect(target.as_deref().unwrap_or(principal.me.role.home()));
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    // who signs out is recorded only for a session that was still valid; the session ends
    // first, whatever happens to the entry
    let signed_in = ctx::current().await?;
    let session = ctx::session()?;
    session.flush().await.map_err(ctx::session_error)?;
    if let Some(p) = signed_in {
        let recorded = ctx::ports()?
            .audit
            .record(
                &ctx::actor_of(&p.me),
                account_event(AuditAction::SignOut, Some(&p.me), &p.me.username),
            )
            .await;
        if recorded.is_err() {
            tracing::error!(user_id = p.me.user_id, "signed out without an audit entry");
        }
    }
    ctx::redirect("/login");
    Ok(())
}

#[server(endpoint = "setup_state")]
pub async fn setup_state() -> Result<SetupStatus, AppError> {
    ctx::ports()?
        .accounts
        .setup_state()
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    username: String,
    password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::domain::{FieldErrors, NewPassword, Username};
    let mut errors = FieldErrors::new();
    let username = errors.check("username", Username::parse(&username));
    let password = errors.check("password", NewPassword::parse(&password));
    if let Some(p) = &password {
        errors.check("confirm_password", p.confirm(&confirm_password));
    }
    errors.into_result()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(AppError::Internal);
    };
    let actor = Actor::anonymous(username.as_str(), ctx::client_addr().ok().map(|c| c.0));
    let principal = ctx::ports()?
        .accounts
        .complete_setup(&actor, &token, &username, &password)
        .await?;
    ctx::sign_in(&principal).await?;
    tracing::info!(
        user_id = principal.me.user_id,
        "system administrator created by setup"
    );
    ctx::redirect(principal.me.role.home());
    Ok(())
}
