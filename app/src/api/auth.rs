//! Signing in and out, the first-run setup, and who is signed in.

use crate::error::AppError;
use crate::model::{Me, SetupStatus};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ctx;

/// The signed-in account, or `None`. Never fails for a signed-out caller.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    ctx::respond(ctx::current().await.map(|p| p.map(|p| p.me)))
}

#[server(endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    ctx::respond(
        async {
            let ports = ctx::ports()?;
            let client = ctx::client_addr()?.0;
            ports
                .throttle
                .check(client)
                .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;
            let principal = ports
                .accounts
                .authenticate(&username, &password)
                .await
                .map_err(ctx::repo)?;
            let Some(principal) = principal else {
                ports.throttle.record_failure(client);
                tracing::info!(%client, "sign-in refused");
                return Err(AppError::BadCredentials);
            };
            ports.throttle.record_success(client);
            ctx::sign_in(&principal).await?;
            tracing::info!(user_id = principal.me.user_id, %client, "signed in");
            leptos_axum::redirect(&ctx::local_path(
                next.as_deref()
                    .filter(|_| principal.me.role == crate::model::Role::TenantAdmin),
                principal.me.role.home(),
            ));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    ctx::respond(
        async {
            let session = ctx::session()?;
            session.flush().await.map_err(ctx::session_error)?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "setup_state")]
pub async fn setup_state() -> Result<SetupStatus, AppError> {
    ctx::respond(
        async {
            ctx::ports()?
                .accounts
                .setup_state()
                .await
                .map_err(ctx::repo)
        }
        .await,
    )
}

#[server(endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    username: String,
    password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::domain::{FieldErrors, NewPassword, Username};
    ctx::respond(
        async {
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
            let principal = ctx::ports()?
                .accounts
                .complete_setup(&token, &username, &password)
                .await
                .map_err(ctx::repo)?;
            ctx::sign_in(&principal).await?;
            tracing::info!(
                user_id = principal.me.user_id,
                "system administrator created by setup"
            );
            leptos_axum::redirect(principal.me.role.home());
            Ok(())
        }
        .await,
    )
}
