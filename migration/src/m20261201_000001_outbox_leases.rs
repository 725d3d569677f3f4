//! Outbox leases carry a fencing token: each claim of a row writes a fresh `lease_token`
//! beside its expiry (`locked_until`), and the outcome of a send is recorded only by the
//! claimant whose token is still on the row.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .add_column(uuid_null("lease_token"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .drop_column("lease_token")
                    .to_owned(),
            )
            .await
    }
}
