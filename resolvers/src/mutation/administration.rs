//! Running the network: ADMIN adds and changes organisations and the people who sign in, and
//! takes access away. A change reaches a person at their next operation, on every transport,
//! because the gate reads their row (and their organisation's) for each one. The rules of who
//! may belong where are the policy's (`policy::role_fits_organisation`); the command line's
//! `user add` writes through the same functions.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{SubsecRound, Utc};
use entities::{organisation, user};
use sea_orm::sea_query::LockType;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::client_fields::optional;
use super::{conflict_on_unique, text};
use crate::audit::record_change;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, ADMINISTRATORS};
use crate::social_map_rules::is_web_address;
use crate::types::me::User;
use crate::types::organisation::Organisation;
use crate::types::{OrganisationKind, Role, parse_id};

#[derive(Default)]
pub struct AdministrationMutation;

/// An organisation as ADMIN describes it.
#[derive(InputObject)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: OrganisationKind,
    /// For kind OTHER: what kind of partner it is ("Integratie en Inburgering").
    pub kind_label: Option<String>,
    /// A partner of the network (receives referrals), or only on the social map.
    pub is_network_partner: bool,
    pub description: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A person to give access.
#[derive(InputObject)]
pub struct AddUserInput {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub organisation_id: ID,
}

#[Object]
impl AdministrationMutation {
    /// Adds an organisation: a partner of the network, or one only on the social map.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: OrganisationInput,
    ) -> ApiResult<Organisation> {
        let txn = crate::write_transaction(ctx).await?;
        let row = create_organisation(&txn, input).await?;
        record_change(ctx, &txn, "CREATE", "Organisation", row.id, None).await?;
        txn.commit().await?;
        Ok(Organisation(row))
    }

    /// Rewrites an organisation's description. The welfare house stays the welfare house.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: OrganisationInput,
    ) -> ApiResult<Organisation> {
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        let current = organisation_for_update(&txn, id).await?;
        let kind = entities::OrganisationKind::from(input.kind);
        let is_house = current.kind == entities::OrganisationKind::WelfareHouse;
        if is_house != (kind == entities::OrganisationKind::WelfareHouse) {
            return Err(ApiError::Conflict(
                "the welfare house's kind cannot change, nor can another organisation become the welfare house"
                    .into(),
            ));
        }
        let mut row: organisation::ActiveModel = current.into();
        described(&mut row, input)?;
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "UPDATE", "Organisation", id, None).await?;
        txn.commit().await?;
        Ok(Organisation(row))
    }

    /// Takes an organisation out of the network: its people lose access at their next operation
    /// and it receives no new referrals; its referrals and history stay.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn deactivate_organisation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Organisation> {
        self.set_organisation_active(ctx, id, false).await
    }

    /// Brings a deactivated organisation back; its people's access returns with it.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn reactivate_organisation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Organisation> {
        self.set_organisation_active(ctx, id, true).await
    }

    /// Gives a person access, with a role fitting their organisation.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn add_user(&self, ctx: &Context<'_>, input: AddUserInput) -> ApiResult<User> {
        let organisation = parse_id(&input.organisation_id, "input.organisationId")?;
        let txn = crate::write_transaction(ctx).await?;
        let row = add_user(&txn, &input.name, &input.email, input.role.into(), organisation).await?;
        record_change(ctx, &txn, "CREATE", "User", row.id, None).await?;
        txn.commit().await?;
        Ok(User(row))
    }

    /// Changes a person's role; it applies from their next operation (an open WebSocket closes
    /// with 4403: sign in again). The last active ADMIN keeps the role.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn change_user_role(&self, ctx: &Context<'_>, id: ID, role: Role) -> ApiResult<User> {
        let id = parse_id(&id, "id")?;
        let role = entities::Role::from(role);
        let txn = crate::write_transaction(ctx).await?;
        let current = user_for_update(&txn, id).await?;
        let organisation = organisation::Entity::find_by_id(current.organisation_id)
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::internal("a user without organisation"))?;
        policy::role_fits_organisation(role, organisation.kind)
            .map_err(|m| ApiError::bad_input("role", m))?;
        if current.role == entities::Role::Admin && role != entities::Role::Admin {
            keep_an_admin(&txn, current.id).await?;
        }
        let mut row: user::ActiveModel = current.into();
        row.role = Set(role);
        let row = row.update(&txn).await?;
        // The log says what the role became: who was made ADMIN, and by whom.
        record_change(ctx, &txn, &format!("ROLE_{}", role.as_str()), "User", id, None).await?;
        txn.commit().await?;
        Ok(User(row))
    }

    /// Takes a person's access away at their next operation, on every transport. Not the last
    /// active ADMIN: the network would have no one left to run it.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn deactivate_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        self.set_user_active(ctx, id, false).await
    }

    /// Forgets which identity-provider account a person is linked to: their next sign-in links
    /// again through their confirmed e-mail address (a wrong link, a new account at the provider).
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn reset_user_sign_in(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        let mut row: user::ActiveModel = user_for_update(&txn, id).await?.into();
        row.oidc_subject = Set(None);
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "RESET_SIGN_IN", "User", id, None).await?;
        txn.commit().await?;
        Ok(User(row))
    }

    /// Gives a deactivated person their access back.
    #[graphql(guard = "RoleIn(ADMINISTRATORS)", visible = "crate::policy::visible::administration")]
    async fn reactivate_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        self.set_user_active(ctx, id, true).await
    }
}

impl AdministrationMutation {
    async fn set_organisation_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> ApiResult<Organisation> {
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        let current = organisation_for_update(&txn, id).await?;
        if !active && current.kind == entities::OrganisationKind::WelfareHouse {
            return Err(ApiError::Conflict(
                "the welfare house cannot be deactivated: every staff member and administrator belongs to it"
                    .into(),
            ));
        }
        if current.active == active {
            return Ok(Organisation(current));
        }
        let mut row: organisation::ActiveModel = current.into();
        row.active = Set(active);
        row.deactivated_at = Set((!active).then(|| Utc::now().trunc_subsecs(6)));
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, if active { "REACTIVATE" } else { "DEACTIVATE" }, "Organisation", id, None)
            .await?;
        txn.commit().await?;
        Ok(Organisation(row))
    }

    async fn set_user_active(&self, ctx: &Context<'_>, id: ID, active: bool) -> ApiResult<User> {
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        let current = user_for_update(&txn, id).await?;
        if current.active == active {
            return Ok(User(current));
        }
        if !active && current.role == entities::Role::Admin {
            keep_an_admin(&txn, current.id).await?;
        }
        let mut row: user::ActiveModel = current.into();
        row.active = Set(active);
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, if active { "REACTIVATE" } else { "DEACTIVATE" }, "User", id, None).await?;
        txn.commit().await?;
        Ok(User(row))
    }
}

/// Adds an organisation (the command line's `--new-welfare-house` too).
pub async fn create_organisation(
    txn: &impl ConnectionTrait,
    input: OrganisationInput,
) -> ApiResult<organisation::Model> {
    let now = Utc::now().trunc_subsecs(6);
    let mut row = organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        hsds_id: Set(None),
        imported_from: Set(None),
        created_at: Set(now),
        active: Set(true),
        deactivated_at: Set(None),
        ..Default::default()
    };
    described(&mut row, input)?;
    row.insert(txn).await.map_err(|e| conflict_on_unique(e, "the network has its welfare house already"))
}

/// Adds a person to `organisation` (the command line's `user add` too).
pub async fn add_user(
    txn: &impl ConnectionTrait,
    name: &str,
    email: &str,
    role: entities::Role,
    organisation: Uuid,
) -> ApiResult<user::Model> {
    let name = text("input.name", name, 200)?;
    let email = email_address("input.email", email)?;
    let organisation = organisation::Entity::find_by_id(organisation)
        .one(txn)
        .await?
        .filter(|o| o.active)
        .ok_or_else(|| ApiError::bad_input("input.organisationId", "no such active organisation"))?;
    policy::role_fits_organisation(role, organisation.kind)
        .map_err(|m| ApiError::bad_input("input.role", m))?;
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        name: Set(name),
        role: Set(role),
        organisation_id: Set(organisation.id),
        active: Set(true),
        created_at: Set(Utc::now().trunc_subsecs(6)),
        // Linked at their first sign-in through the identity provider.
        oidc_subject: Set(None),
    }
    .insert(txn)
    .await
    .map_err(|e| conflict_on_unique(e, "someone with this e-mail address has access already"))
}

/// Sets an organisation's description from `input`, checked.
fn described(row: &mut organisation::ActiveModel, input: OrganisationInput) -> ApiResult<()> {
    let kind = entities::OrganisationKind::from(input.kind);
    let label = match input.kind_label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(label) if kind == entities::OrganisationKind::Other => {
            Some(text("input.kindLabel", label, 100)?)
        }
        Some(_) => return Err(ApiError::bad_input("input.kindLabel", "only for kind OTHER")),
        None => None,
    };
    row.name = Set(text("input.name", &input.name, 200)?);
    row.kind = Set(kind);
    row.kind_label = Set(label);
    row.is_network_partner =
        Set(input.is_network_partner && kind != entities::OrganisationKind::WelfareHouse);
    row.description = Set(optional("input.description", input.description, 10_000)?);
    row.url = Set(optional("input.website", input.website, 2_000)?);
    if let sea_orm::ActiveValue::Set(Some(url)) = &row.url
        && !is_web_address(url)
    {
        return Err(ApiError::bad_input("input.website", "must start with http:// or https://"));
    }
    row.email = Set(input.email.as_deref().map(|e| email_address("input.email", e)).transpose()?);
    row.phone = Set(optional("input.phone", input.phone, 50)?);
    Ok(())
}

/// An e-mail address, lower-cased: the key a person signs in with.
fn email_address(field: &str, value: &str) -> ApiResult<String> {
    let email = text(field, value, 254)?.to_lowercase();
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    });
    // ASCII only: an invisible or right-to-left character would make two accounts that look the
    // same; the house's addresses are plain ones.
    if !well_formed || !email.chars().all(|c| c.is_ascii_graphic()) || email.matches('@').count() != 1 {
        return Err(ApiError::bad_input(field, "not an e-mail address"));
    }
    Ok(email)
}

async fn organisation_for_update(txn: &impl ConnectionTrait, id: Uuid) -> ApiResult<organisation::Model> {
    organisation::Entity::find_by_id(id).one(txn).await?.ok_or(ApiError::NotFound("organisation"))
}

async fn user_for_update(txn: &impl ConnectionTrait, id: Uuid) -> ApiResult<user::Model> {
    user::Entity::find_by_id(id).one(txn).await?.ok_or(ApiError::NotFound("user"))
}

/// Refuses to take away `leaving`'s ADMIN access when no other active ADMIN remains. The active
/// administrators' rows are locked first (PostgreSQL; SQLite writes one at a time anyway), so two
/// administrators removing each other at once cannot both pass.
async fn keep_an_admin(txn: &impl ConnectionTrait, leaving: Uuid) -> ApiResult<()> {
    let admins = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(entities::Role::Admin))
        .filter(policy::users_who_may_act());
    let admins = match txn.get_database_backend() {
        sea_orm::DbBackend::Postgres => admins.lock(LockType::Update),
        _ => admins,
    };
    let ids: Vec<Uuid> = admins.into_tuple().all(txn).await?;
    let others = ids.iter().filter(|id| **id != leaving).count();
    if others == 0 {
        return Err(ApiError::Conflict(
            "this is the last active ADMIN: give someone else the role first".into(),
        ));
    }
    Ok(())
}
