use sea_orm::entity::prelude::*;

use crate::domain::connection::{ConnectionKind, ConnectionStatus, DeclineReason};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: ConnectionKind,
    pub status: ConnectionStatus,
    pub requester_id: Uuid,
    pub recipient_id: Uuid,
    pub active_pair: Option<String>,
    pub pair_key: String,
    pub message: Option<String>,
    pub score: Option<f64>,
    pub reasons: Json,
    pub decline_reason: Option<DeclineReason>,
    pub decline_note: Option<String>,
    pub round_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub responded_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// When its next check-in is due; none yet means two weeks after acceptance.
    pub next_check_in_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The side of the connection that is not `me`.
    pub fn other_side(&self, me: Uuid) -> Uuid {
        if self.requester_id == me {
            self.recipient_id
        } else {
            self.requester_id
        }
    }
}
