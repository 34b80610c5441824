//! Intake at the desk: registering a client and opening a help request.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{NaiveDate, SubsecRound, Utc};
use entities::{HelpRequestStatus, client, help_request, help_request_life_domain};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, ExprTrait, QueryFilter, Set};
use uuid::Uuid;

use super::client_fields as fields;
use super::{conflict_on_unique, text};
use crate::audit::record_change;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, INTAKE_STAFF};
use crate::types::client::Client;
use crate::types::help_request::HelpRequest;
use crate::types::{LifeDomain, parse_id};

#[derive(Default)]
pub struct IntakeMutation;

/// A postal address.
#[derive(InputObject)]
pub struct AddressInput {
    pub street: Option<String>,
    pub postcode: String,
    pub municipality: String,
}

/// A new client, as the desk takes them in.
#[derive(InputObject)]
pub struct RegisterClientInput {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<NaiveDate>,
    /// 11 digits, dots and dashes allowed (`85.07.30-033.28`); the check digits are verified.
    pub national_register_number: Option<String>,
    pub address: Option<AddressInput>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// ISO 639-1 code, such as `nl`, `fr`, `en`.
    pub preferred_language: Option<String>,
}

/// A client's welfare question.
#[derive(InputObject)]
pub struct OpenHelpRequestInput {
    pub client_id: ID,
    pub summary: String,
    /// At least one.
    pub life_domains: Vec<LifeDomain>,
    /// DESK (default), PHONE, EMAIL, OUTREACH or PARTNER_OFFICE_HOUR.
    pub channel: Option<String>,
}

/// How a help request can come in.
pub const CHANNELS: &[&str] = &["DESK", "PHONE", "EMAIL", "OUTREACH", "PARTNER_OFFICE_HOUR"];

#[Object]
impl IntakeMutation {
    /// Registers a client. A likely duplicate — the same national register number, or the same
    /// name and date of birth — is refused with CONFLICT naming the existing client.
    #[graphql(guard = "RoleIn(INTAKE_STAFF)", visible = "crate::policy::visible::intake")]
    async fn register_client(&self, ctx: &Context<'_>, input: RegisterClientInput) -> ApiResult<Client> {
        let caller = crate::caller_of(ctx)?;
        let given = fields::name("input.givenName", &input.given_name)?;
        let family = fields::name("input.familyName", &input.family_name)?;
        let born = fields::date_of_birth("input.dateOfBirth", input.date_of_birth)?;
        let number = fields::national_number("input.nationalRegisterNumber", input.national_register_number)?;
        let email = fields::email("input.email", input.email)?;
        let phone = fields::phone("input.phone", input.phone)?;
        let language = fields::language("input.preferredLanguage", input.preferred_language)?;
        let address = input.address.map(|a| fields::address("input.address", a)).transpose()?;
        let (street, postcode, municipality) = match address {
            Some(a) => (a.street, Some(a.postcode), Some(a.municipality)),
            None => (None, None, None),
        };

        let txn = crate::write_transaction(ctx).await?;
        if let Some(existing) = likely_duplicate(&txn, &given, &family, born, number.as_deref()).await? {
            return Err(ApiError::Conflict(format!(
                "this client seems registered already: client {existing}"
            )));
        }
        let now = Utc::now().trunc_subsecs(6);
        let row = client::ActiveModel {
            id: Set(Uuid::now_v7()),
            given_name: Set(given),
            family_name: Set(family),
            date_of_birth: Set(born),
            national_register_number: Set(number),
            street: Set(street),
            postcode: Set(postcode),
            municipality: Set(municipality),
            phone: Set(phone),
            email: Set(email),
            preferred_language: Set(language),
            created_by: Set(caller.user_id()),
            created_at: Set(now),
            updated_at: Set(now),
            erased_at: Set(None),
            legal_hold_at: Set(None),
            legal_hold_reason: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| conflict_on_unique(e, "this national register number is registered already"))?;
        record_change(ctx, &txn, "CREATE", "Client", row.id, Some(row.id)).await?;
        txn.commit().await?;
        Ok(Client(row))
    }

    /// Opens a help request for a client, across one or more life domains.
    #[graphql(guard = "RoleIn(INTAKE_STAFF)", visible = "crate::policy::visible::intake")]
    async fn open_help_request(
        &self,
        ctx: &Context<'_>,
        input: OpenHelpRequestInput,
    ) -> ApiResult<HelpRequest> {
        let caller = crate::caller_of(ctx)?;
        let client_id = parse_id(&input.client_id, "input.clientId")?;
        let summary = text("input.summary", &input.summary, 4000)?;
        let mut domains: Vec<entities::LifeDomain> = input.life_domains.into_iter().map(Into::into).collect();
        domains.sort();
        domains.dedup();
        if domains.is_empty() {
            return Err(ApiError::bad_input("input.lifeDomains", "name at least one life domain"));
        }
        let channel = input.channel.map(|c| c.trim().to_uppercase()).unwrap_or_else(|| "DESK".into());
        if !CHANNELS.contains(&channel.as_str()) {
            return Err(ApiError::bad_input("input.channel", format!("one of {}", CHANNELS.join(", "))));
        }

        let txn = crate::write_transaction(ctx).await?;
        client::Entity::find_by_id(client_id)
            .filter(policy::clients(caller))
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.clientId", "no such client"))
            .and_then(crate::erasure::not_erased)?;
        let row = help_request::ActiveModel {
            id: Set(Uuid::now_v7()),
            client_id: Set(client_id),
            summary: Set(summary),
            channel: Set(channel),
            status: Set(HelpRequestStatus::Open),
            opened_by: Set(caller.user_id()),
            opened_at: Set(Utc::now().trunc_subsecs(6)),
            closed_at: Set(None),
            outcome: Set(None),
            closed_by: Set(None),
        }
        .insert(&txn)
        .await?;
        help_request_life_domain::Entity::insert_many(domains.into_iter().map(|life_domain| {
            help_request_life_domain::ActiveModel {
                help_request_id: Set(row.id),
                life_domain: Set(life_domain),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
        record_change(ctx, &txn, "CREATE", "HelpRequest", row.id, Some(client_id)).await?;
        txn.commit().await?;
        Ok(HelpRequest(row))
    }
}

/// An existing client with the same national register number, or the same name and birth date.
async fn likely_duplicate(
    db: &impl sea_orm::ConnectionTrait,
    given: &str,
    family: &str,
    born: Option<NaiveDate>,
    number: Option<&str>,
) -> ApiResult<Option<Uuid>> {
    let lower = |column: client::Column| Expr::expr(Func::lower(Expr::col((client::Entity, column))));
    let mut same = sea_orm::Condition::any();
    if let Some(number) = number {
        same = same.add(client::Column::NationalRegisterNumber.eq(number));
    }
    if let Some(born) = born {
        same = same.add(
            sea_orm::Condition::all()
                .add(lower(client::Column::GivenName).eq(given.to_lowercase()))
                .add(lower(client::Column::FamilyName).eq(family.to_lowercase()))
                .add(client::Column::DateOfBirth.eq(born)),
        );
    }
    if number.is_none() && born.is_none() {
        return Ok(None);
    }
    Ok(client::Entity::find().filter(same).one(db).await?.map(|c| c.id))
}
