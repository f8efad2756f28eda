//! Discovery endpoints: the gateway's `GET /oauth/token/accessible-resources` (which sites a
//! token covers) and a site's unauthenticated `GET /site/{name}/_edge/tenant_info` (its cloud
//! id).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use rand::seq::SliceRandom;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::SimState;

/// Avatar Atlassian shows for sites without a custom one.
const SITE_AVATAR: &str =
    "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png";

/// `GET /oauth/token/accessible-resources`: every site the token's grant covers, in no
/// particular order (Atlassian documents that the order means nothing, so it is shuffled to keep
/// clients from relying on it). `scopes` lists the product scopes; `offline_access` is not one.
pub(super) async fn accessible_resources(
    State(state): State<SimState>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let unauthorized = || ApiError::gateway(StatusCode::UNAUTHORIZED, "Unauthorized");
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(unauthorized)?;
    let now = state.clock.now_ms();
    let world = state.world.read();
    let access = super::authenticate(&world, token, now).map_err(|_| unauthorized())?;
    let scopes: Vec<&str> = access
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "offline_access")
        .collect();
    let mut sites: Vec<Value> = access
        .cloud_ids
        .iter()
        .filter_map(|id| world.site(id))
        .map(|site| {
            json!({
                "id": site.cloud_id,
                "name": site.name,
                "url": site.url,
                "scopes": scopes,
                "avatarUrl": SITE_AVATAR,
            })
        })
        .collect();
    drop(world);
    sites.shuffle(&mut rand::rng());
    Ok(Json(Value::Array(sites)))
}

/// `GET /site/{name}/_edge/tenant_info`: `{"cloudId": ...}` without authentication.
pub(super) async fn tenant_info(
    State(state): State<SimState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let world = state.world.read();
    let site = world
        .sites
        .values()
        .find(|s| s.name == name)
        .ok_or_else(|| ApiError::not_found("No site with this name."))?;
    Ok(Json(json!({ "cloudId": site.cloud_id })))
}
