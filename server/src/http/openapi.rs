//! The OpenAPI description, generated from the handlers' annotations and the shared types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "aTES API", version = "1", description = "Task tracker and payroll. Money is integer cents."),
    paths(
        super::healthz,
        super::metrics::serve,
        super::stream::stream,
        crate::auth::routes::login,
        crate::auth::routes::me,
        crate::auth::routes::create_user,
        crate::auth::routes::list_users,
        crate::auth::routes::get_user,
        crate::auth::routes::update_user,
        crate::tracker::routes::create_task,
        crate::tracker::routes::list_tasks,
        crate::tracker::routes::get_task,
        crate::tracker::routes::complete_task,
        crate::tracker::routes::reshuffle,
        crate::tracker::routes::task_counts,
        crate::accounting::routes::my_account,
        crate::accounting::routes::accounts,
        crate::accounting::routes::account_log,
        crate::accounting::routes::earnings,
        crate::accounting::routes::close_day,
        crate::accounting::routes::payments,
        crate::analytics::routes::summary,
        crate::analytics::routes::earnings,
        crate::analytics::routes::most_expensive,
        crate::events::routes::events_status,
        crate::events::routes::dead_letters,
        crate::events::routes::retry_dead_letter,
        crate::events::routes::discard_dead_letter,
        crate::events::routes::rewind,
        crate::events::routes::rebuild,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
