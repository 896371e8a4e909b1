//! HTTP endpoints of the auth context.

use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{AppJson, AppQuery, Caller, parse_id};
use crate::paging::PageRequest;
use ates_shared::Role;
use ates_shared::api::{
    CreateUser, ErrorBody, LoginRequest, LoginResponse, Page, PageParams, UpdateUser, User,
};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(update_user))
}

/// Exchange a username and password for a bearer token. Every failure is the same 401;
/// attempts are throttled per username and per client address.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 429, description = "too many attempts; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "too many password checks at once; see `Retry-After`", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    AppJson(req): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    let client = client_address(peer.ip(), &headers, &state.trusted_proxies);
    Ok(Json(
        state.auth.login(req.username, req.password, client).await?,
    ))
}

/// The address a login is throttled by: the peer's, or behind a trusted proxy the one it
/// appended last to `X-Forwarded-For` (the entries before it are the client's own claims).
fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    // `::ffff:127.0.0.1` is 127.0.0.1 (a proxy seen on a dual-stack listener).
    let peer = peer.to_canonical();
    if !trusted.iter().any(|t| t.to_canonical() == peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|last| last.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let proxy: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 10.0.0.7".parse().unwrap());
        assert_eq!(
            client_address(proxy, &headers, &[proxy]),
            "10.0.0.7".parse::<std::net::IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, &headers, &[]), proxy, "untrusted");
        assert_eq!(
            client_address(proxy, &axum::http::HeaderMap::new(), &[proxy]),
            proxy
        );
        let mapped: std::net::IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            client_address(mapped, &headers, &[proxy]),
            "10.0.0.7".parse::<std::net::IpAddr>().unwrap(),
            "the same proxy seen over IPv6"
        );
    }
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<User>> {
    Ok(Json(state.auth.get_user(caller.id).await?))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "auth", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = User), (status = 409, description = "username taken", body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, description = "too many password checks at once (hashing the new password waits for one); see `Retry-After`", body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<CreateUser>,
) -> Result<(StatusCode, Json<User>)> {
    caller.require(&[Role::Admin])?;
    Ok((
        StatusCode::CREATED,
        Json(state.auth.create_user(req).await?),
    ))
}

/// Every user, in creation order (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "auth", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<User>), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<PageParams>,
) -> Result<Json<Page<User>>> {
    caller.require(&[Role::Admin])?;
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(state.auth.list_users(page).await?))
}

/// One user (admin).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user id")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<User>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(state.auth.get_user(parse_id(&id, "user")?).await?))
}

/// Change a user's role, name, e-mail or active flag (admin).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "auth", security(("bearer" = [])), request_body = UpdateUser,
    params(("id" = Uuid, Path, description = "The user id")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, description = "last admin", body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(change): AppJson<UpdateUser>,
) -> Result<Json<User>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(
        state
            .auth
            .update_user(parse_id(&id, "user")?, change)
            .await?,
    ))
}
