//! What an account may do beyond its own practice.

use sea_orm::{entity::prelude::StringLen, DeriveActiveEnum, EnumIter};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    #[default]
    #[sea_orm(string_value = "practitioner")]
    Practitioner,
    /// A programme administrator: rounds, figures, suspensions.
    #[sea_orm(string_value = "admin")]
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Practitioner => "practitioner",
            Self::Admin => "admin",
        }
    }
}
