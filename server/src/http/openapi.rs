//! The OpenAPI description, generated from the handlers' annotations and the shared types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "aTES API", version = "1", description = "Task tracker and payroll. Money is integer cents."),
    paths(
        super::healthz,
        super::meta,
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
        crate::accounting::routes::ledger,
        crate::accounting::routes::task_ledger,
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
    modifiers(&BearerAuth, &StandardErrors)
)]
pub struct ApiDoc;

/// The error answers every route can give besides its own, added to each operation that
/// does not list them already: 400 (a query, path or body that does not parse), 401 and
/// 403 where a token is needed, 404 where the path names something, 413/415/422 where a
/// body is sent, 422 where a query parameter has limits. All in the `ErrorBody` shape.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, Response};
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = operation.request_body.is_some();
                let has_query = operation.parameters.as_ref().is_some_and(|p| {
                    p.iter().any(|p| {
                        matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
                    })
                });
                let mut statuses = vec![(
                    "400",
                    "the query, a path segment or the body does not parse",
                )];
                if secured {
                    statuses.push(("401", "no token, or one that is forged, expired or revoked"));
                    statuses.push(("403", "the caller's role may not do this"));
                }
                if path.contains('{') {
                    statuses.push(("404", "nothing has this id"));
                }
                if has_body {
                    statuses.push(("413", "the body is larger than 1 MiB"));
                    statuses.push(("415", "the body is not `application/json`"));
                }
                if has_body || has_query {
                    statuses.push((
                        "422",
                        "a field or parameter breaks its rules; the message names it",
                    ));
                }
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            let mut response = Response::new(description);
                            response.content.insert(
                                "application/json".to_owned(),
                                RefOr::T(Content::new(Some(Ref::from_schema_name("ErrorBody")))),
                            );
                            RefOr::T(response)
                        });
                }
            }
        }
    }
}

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
