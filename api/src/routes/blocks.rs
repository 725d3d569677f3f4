//! The people the caller has blocked, so that they can be seen and unblocked in one place.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::ApiError,
    extract::AuthUser,
    state::AppState,
    store::{entities::blocks, users},
};

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlockedPerson {
    pub user_id: Uuid,
    pub display_name: String,
    pub blocked_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlockList {
    /// Most recent first.
    pub items: Vec<BlockedPerson>,
}

/// Lists the people the caller has blocked (not those who blocked the caller).
#[utoipa::path(
    get, path = "/api/v1/me/blocks", tag = "connections",
    security(("bearer" = [])),
    responses((status = 200, description = "The people the caller has blocked", body = BlockList))
)]
pub async fn list_blocks(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let rows = blocks::Entity::find()
        .filter(blocks::Column::BlockerId.eq(user.id()))
        .order_by_desc(blocks::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        // An erased account leaves nothing to show.
        if let Some(blocked) = users::find_by_id(&state.db, row.blocked_id).await? {
            items.push(BlockedPerson {
                user_id: blocked.id,
                display_name: blocked.display_name,
                blocked_at: row.created_at,
            });
        }
    }
    Ok(HttpResponse::Ok().json(BlockList { items }))
}
