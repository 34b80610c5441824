//! Which user a provider's sign-in is. A user is linked to the provider's `sub` on their first
//! sign-in, through the `email` claim the provider vouches for (`email_verified`), and from then
//! on by `sub` alone: a user who changes their address at the provider stays who they are, and a
//! second account at the provider that claims the same address does not get in. Only active
//! users are linked or let in; role and organisation are never read from the token.
//!
//! A citizen's sign-in (the token carries the claim `WELZIJNSHUIS_OIDC_CLIENT_CLAIM` names) is
//! never linked to a user: it is the client with that national register number who may sign in
//! (not erased), looked up on every operation, so that an erased client is refused at once and
//! a merged one is the client kept. The claim wins over `sub` and e-mail (see [`super`]).

use entities::{client, user};
use resolvers::national_number::NationalRegisterNumber;
use resolvers::{ApiError, Caller};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::Identity;

/// Who this identity is, as a caller: the citizen when the token carries the client claim, else
/// a user.
pub async fn caller_for(db: &DatabaseConnection, identity: &Identity) -> Result<Caller, ApiError> {
    match &identity.national_number {
        Some(claimed) => client_for(db, claimed).await,
        None => Ok(Caller::user(user_for(db, identity).await?)),
    }
}

/// The client with the claimed national register number, if they may sign in. The messages are
/// short: on a WebSocket they are the close frame's reason, which holds 123 bytes.
async fn client_for(db: &DatabaseConnection, claimed: &str) -> Result<Caller, ApiError> {
    let number = NationalRegisterNumber::parse(claimed)
        .map_err(|_| ApiError::Unauthenticated("the token's national register number is not valid"))?;
    let client = client::Entity::find()
        .filter(client::Column::NationalRegisterNumber.eq(number.as_str()))
        .filter(resolvers::policy::clients_who_may_sign_in())
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated(
            "no client file with this national register number at the welfare house",
        ))?;
    Ok(Caller::client(client.id))
}

/// The active user this identity is, linking it on first sign-in.
pub async fn user_for(db: &DatabaseConnection, identity: &Identity) -> Result<user::Model, ApiError> {
    if let Some(user) = pinned(db, &identity.subject).await? {
        return Ok(user);
    }
    if linked_at_all(db, &identity.subject).await? {
        return Err(ApiError::Unauthenticated("unknown or inactive user"));
    }
    // Kept short: on a WebSocket it is the close frame's reason, which holds 123 bytes.
    let email = identity.verified_email.as_deref().ok_or(ApiError::Unauthenticated(
        "not linked to a user yet, and no e-mail address confirmed (email_verified)",
    ))?;
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .filter(resolvers::policy::users_who_may_act())
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated(
            "no active user has this confirmed e-mail address: ask an administrator",
        ))?;
    pin(db, user, &identity.subject).await
}

/// The user linked to `subject`, if they may act (active, of an active organisation).
async fn pinned(db: &DatabaseConnection, subject: &str) -> Result<Option<user::Model>, ApiError> {
    let linked = user::Entity::find().filter(user::Column::OidcSubject.eq(subject));
    Ok(linked.filter(resolvers::policy::users_who_may_act()).one(db).await?)
}

/// Whether `subject` is linked to anyone, active or not: a deactivated user is not linked anew.
async fn linked_at_all(db: &DatabaseConnection, subject: &str) -> Result<bool, ApiError> {
    Ok(user::Entity::find().filter(user::Column::OidcSubject.eq(subject)).one(db).await?.is_some())
}

/// Links `user` to `subject` unless it is linked already. The update says `oidc_subject IS NULL`,
/// so of two first sign-ins at once only one links; the other then reads what was linked.
async fn pin(db: &DatabaseConnection, user: user::Model, subject: &str) -> Result<user::Model, ApiError> {
    let taken =
        ApiError::Unauthenticated("this user is linked to another sign-in already: ask an administrator");
    if user.oidc_subject.is_some() {
        return Err(taken);
    }
    let linked = user::Entity::update_many()
        .col_expr(user::Column::OidcSubject, Expr::value(subject))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::OidcSubject.is_null())
        .filter(resolvers::policy::users_who_may_act())
        .exec(db)
        .await;
    match linked {
        Ok(result) if result.rows_affected == 1 => {
            tracing::info!(user_id = %user.id, "OpenID sign-in linked to a user on first sign-in");
            Ok(user::Model { oidc_subject: Some(subject.to_owned()), ..user })
        }
        // Linked meanwhile, to this subject (a sign-in at the same moment) or another.
        Ok(_) => match pinned(db, subject).await? {
            Some(now) if now.id == user.id => Ok(now),
            _ => Err(taken),
        },
        // The subject was linked to another user meanwhile (the unique index said so).
        Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            Err(taken)
        }
        Err(err) => Err(err.into()),
    }
}
