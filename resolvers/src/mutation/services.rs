//! Editing the social map: a partner keeps its own organisation's services up to date; ADMIN
//! edits any. The same checks as the HSDS import.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{NaiveDate, SubsecRound, Utc};
use entities::{organisation, service, service_language, service_life_domain};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::audit::record_change;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::SERVICE_EDITORS;
use crate::social_map_rules::{Field, ServiceDraft};
use crate::types::service::Service;
use crate::types::{LifeDomain, ServiceStatus, parse_id};

#[derive(Default)]
pub struct ServiceMutation;

/// A service's description on the social map.
#[derive(InputObject)]
pub struct ServiceInput {
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// ACTIVE when not given.
    pub status: Option<ServiceStatus>,
    pub eligibility: Option<String>,
    pub fees: Option<String>,
    pub application_process: Option<String>,
    /// When the entry was checked; today when not given.
    pub assured_date: Option<NaiveDate>,
    pub alert: Option<String>,
    /// The life domains the service answers to (none is allowed, as for an imported service).
    pub life_domains: Vec<LifeDomain>,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
}

#[Object]
impl ServiceMutation {
    /// Adds a service to an organisation's entry on the social map.
    #[graphql(guard = "RoleIn(SERVICE_EDITORS)", visible = "crate::policy::visible::service_editing")]
    async fn create_service(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        input: ServiceInput,
    ) -> ApiResult<Service> {
        let caller = crate::caller_of(ctx)?;
        let org = parse_id(&organisation_id, "organisationId")?;
        may_edit(caller, org)?;
        let checked = Checked::from(input)?;
        let txn = crate::write_transaction(ctx).await?;
        organisation::Entity::find_by_id(org)
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("organisationId", "no such organisation"))?;
        let now = Utc::now().trunc_subsecs(6);
        let id = Uuid::now_v7();
        let row = checked.model(id, org, now, now).insert(&txn).await?;
        checked.write_lists(&txn, id).await?;
        record_change(ctx, &txn, "CREATE", "Service", id, None).await?;
        txn.commit().await?;
        Ok(Service::of(row))
    }

    /// Rewrites a service's description (its life domains and languages are replaced).
    #[graphql(guard = "RoleIn(SERVICE_EDITORS)", visible = "crate::policy::visible::service_editing")]
    async fn update_service(&self, ctx: &Context<'_>, id: ID, input: ServiceInput) -> ApiResult<Service> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let checked = Checked::from(input)?;
        let txn = crate::write_transaction(ctx).await?;
        let current =
            service::Entity::find_by_id(id).one(&txn).await?.ok_or(ApiError::NotFound("service"))?;
        may_edit(caller, current.organisation_id)?;
        let row = checked
            .model(id, current.organisation_id, current.created_at, Utc::now().trunc_subsecs(6))
            .update(&txn)
            .await?;
        checked.write_lists(&txn, id).await?;
        record_change(ctx, &txn, "UPDATE", "Service", id, None).await?;
        txn.commit().await?;
        Ok(Service::of(row))
    }
}

/// The policy's rule for editing `org`'s services, as this mutation's error.
fn may_edit(caller: &Caller, org: Uuid) -> ApiResult<()> {
    if crate::policy::may_edit_services_of(caller, org) { Ok(()) } else { Err(ApiError::Forbidden) }
}

struct Checked {
    input: ServiceInput,
    name: String,
    domains: Vec<entities::LifeDomain>,
    languages: Vec<String>,
}

impl Checked {
    /// The input through the one check of a service ([`ServiceDraft::check`]), which the HSDS
    /// import applies too; the first problem is the answer, named by its field.
    fn from(input: ServiceInput) -> ApiResult<Checked> {
        let life_domains: Vec<entities::LifeDomain> = input.life_domains.iter().map(|&d| d.into()).collect();
        let draft = ServiceDraft {
            name: &input.name,
            description: input.description.as_deref(),
            url: input.url.as_deref(),
            email: input.email.as_deref(),
            phone: input.phone.as_deref(),
            eligibility: input.eligibility.as_deref(),
            fees: input.fees.as_deref(),
            application_process: input.application_process.as_deref(),
            alert: input.alert.as_deref(),
            languages: &input.languages,
            life_domains: &life_domains,
        };
        let valid = draft.check().map_err(|problems| {
            let (field, message) = problems.into_iter().next().unwrap_or((Field::Name, String::new()));
            ApiError::bad_input(format!("input.{}", field.graphql()), message)
        })?;
        Ok(Checked { name: valid.name, input, domains: valid.life_domains, languages: valid.languages })
    }

    fn model(
        &self,
        id: Uuid,
        org: Uuid,
        created: chrono::DateTime<Utc>,
        now: chrono::DateTime<Utc>,
    ) -> service::ActiveModel {
        let i = &self.input;
        service::ActiveModel {
            id: Set(id),
            organisation_id: Set(org),
            name: Set(self.name.clone()),
            description: Set(i.description.clone()),
            url: Set(i.url.clone()),
            email: Set(i.email.clone()),
            phone: Set(i.phone.clone()),
            status: Set(i.status.map(Into::into).unwrap_or(entities::ServiceStatus::Active)),
            eligibility: Set(i.eligibility.clone()),
            fees: Set(i.fees.clone()),
            application_process: Set(i.application_process.clone()),
            assured_date: Set(Some(i.assured_date.unwrap_or_else(|| now.date_naive()))),
            alert: Set(i.alert.clone()),
            hsds_id: sea_orm::ActiveValue::NotSet,
            imported_from: sea_orm::ActiveValue::NotSet,
            // Edited here: the next import of it rewrites it whatever its record says.
            import_digest: Set(None),
            created_at: Set(created),
            updated_at: Set(now),
        }
    }

    async fn write_lists(&self, txn: &sea_orm::DatabaseTransaction, id: Uuid) -> ApiResult<()> {
        Ok(replace_lists(txn, id, &self.domains, &self.languages).await?)
    }
}

/// Replaces a service's life domains and languages (the HSDS import uses it too).
pub async fn replace_lists(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
    domains: &[entities::LifeDomain],
    languages: &[String],
) -> Result<(), sea_orm::DbErr> {
    service_life_domain::Entity::delete_many()
        .filter(service_life_domain::Column::ServiceId.eq(id))
        .exec(db)
        .await?;
    service_language::Entity::delete_many()
        .filter(service_language::Column::ServiceId.eq(id))
        .exec(db)
        .await?;
    service_life_domain::Entity::insert_many(
        domains
            .iter()
            .map(|&d| service_life_domain::ActiveModel { service_id: Set(id), life_domain: Set(d) }),
    )
    .exec_without_returning(db)
    .await?;
    service_language::Entity::insert_many(
        languages
            .iter()
            .map(|l| service_language::ActiveModel { service_id: Set(id), language: Set(l.clone()) }),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
