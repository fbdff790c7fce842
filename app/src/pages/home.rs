use crate::api::auth::current_user;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// `/`: to the signed-in person's home, or to sign-in.
#[component]
pub fn Home() -> impl IntoView {
    let me = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let target = match me.await {
                    Ok(Some(me)) => me.role.home(),
                    _ => "/login",
                };
                view! { <Redirect path=target /> }
            })}
        </Suspense>
    }
}
