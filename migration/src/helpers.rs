//! Pieces every migration uses.

use sea_orm_migration::prelude::*;

/// A foreign key from `table.column` to `users.id` that goes with the user.
pub fn user_fk(table: &'static str, column: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to("users", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A foreign key from `table.connection_id` to `connections.id` that goes with the
/// connection.
pub fn connection_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_connection_id"))
        .from(table, "connection_id")
        .to("connections", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

pub fn index(name: &str, table: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table.to_owned());
    for col in cols {
        index.col(*col);
    }
    index.to_owned()
}
