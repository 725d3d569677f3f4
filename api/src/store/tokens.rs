//! Refresh tokens (rotating, grouped in families) and one-time email tokens.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{
    email_tokens::{self, Entity as EmailTokens},
    refresh_tokens::{self, Entity as RefreshTokens},
};
use crate::auth::{hash_token, new_opaque_token};

pub const REFRESH_TOKEN_TTL_DAYS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailTokenPurpose {
    VerifyEmail,
    PasswordReset,
}

impl EmailTokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
        }
    }

    pub fn ttl(self) -> Duration {
        match self {
            Self::VerifyEmail => Duration::days(7),
            Self::PasswordReset => Duration::hours(1),
        }
    }
}

pub async fn create_email_token(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: EmailTokenPurpose,
) -> Result<String, sea_orm::DbErr> {
    let (token, token_hash) = new_opaque_token();
    let now = Utc::now();
    email_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().into()),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(now + purpose.ttl()),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The user of a valid, unused token, without using it up (a cheap check before slow work).
pub async fn peek_email_token(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: EmailTokenPurpose,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    let now = Utc::now();
    Ok(EmailTokens::find()
        .filter(email_tokens::Column::TokenHash.eq(hash_token(token)))
        .filter(email_tokens::Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
        .filter(|found| found.used_at.is_none() && found.expires_at > now)
        .map(|found| found.user_id))
}

/// Marks a valid, unused token as used and returns its user. The conditional update makes
/// two concurrent uses of one token succeed at most once.
pub async fn consume_email_token(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: EmailTokenPurpose,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    let now = Utc::now();
    let Some(found) = EmailTokens::find()
        .filter(email_tokens::Column::TokenHash.eq(hash_token(token)))
        .filter(email_tokens::Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if found.used_at.is_some() || found.expires_at <= now {
        return Ok(None);
    }
    let updated = EmailTokens::update_many()
        .col_expr(email_tokens::Column::UsedAt, Expr::value(now))
        .filter(email_tokens::Column::Id.eq(found.id))
        .filter(email_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok((updated.rows_affected == 1).then_some(found.user_id))
}

pub async fn create_refresh_token(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    family_id: Uuid,
) -> Result<String, sea_orm::DbErr> {
    let (token, token_hash) = new_opaque_token();
    let now = Utc::now();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family_id),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(REFRESH_TOKEN_TTL_DAYS)),
        rotated_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

pub enum Rotation {
    /// The token was current; it is now spent. Issue the next one in `family_id`.
    Rotated { user_id: Uuid, family_id: Uuid },
    /// Unknown, expired or revoked.
    Invalid,
    /// A spent token came back: someone else may hold the family. It is now revoked.
    Reused,
}

pub async fn rotate_refresh_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Rotation, sea_orm::DbErr> {
    let now = Utc::now();
    let Some(found) = RefreshTokens::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
    else {
        return Ok(Rotation::Invalid);
    };
    if found.revoked_at.is_some() || found.expires_at <= now {
        return Ok(Rotation::Invalid);
    }
    let spent = found.rotated_at.is_some()
        || RefreshTokens::update_many()
            .col_expr(refresh_tokens::Column::RotatedAt, Expr::value(now))
            .filter(refresh_tokens::Column::Id.eq(found.id))
            .filter(refresh_tokens::Column::RotatedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(db)
            .await?
            .rows_affected
            != 1;
    if spent {
        revoke_family(db, found.family_id, now).await?;
        return Ok(Rotation::Reused);
    }
    Ok(Rotation::Rotated {
        user_id: found.user_id,
        family_id: found.family_id,
    })
}

pub async fn family_of(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    Ok(RefreshTokens::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .map(|t| t.family_id))
}

pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    RefreshTokens::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(drop)
}

/// Signs a person out everywhere (a password reset, a suspension): every refresh token is
/// revoked and every outstanding password-reset link is spent, so that nobody holding an
/// older link can set the password again. Verification links are left alone.
pub async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    RefreshTokens::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    EmailTokens::update_many()
        .col_expr(email_tokens::Column::UsedAt, Expr::value(now))
        .filter(email_tokens::Column::UserId.eq(user_id))
        .filter(email_tokens::Column::Purpose.eq(EmailTokenPurpose::PasswordReset.as_str()))
        .filter(email_tokens::Column::UsedAt.is_null())
        .filter(email_tokens::Column::ExpiresAt.gt(now))
        .exec(db)
        .await
        .map(drop)
}
