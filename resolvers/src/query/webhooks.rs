//! Webhooks: a partner's own organisation's endpoints, every organisation's for ADMIN.

use async_graphql::{Context, ID, Object};
use entities::{webhook, webhook_delivery};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::connection::{Page, PageArgs, page};
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, WEBHOOK_MANAGERS};
use crate::types::parse_id;
use crate::types::webhook::{Webhook, WebhookDelivery};

/// The most webhooks one call lists. One organisation has at most
/// [`crate::webhooks::WEBHOOKS_PER_ORGANISATION`] (10); the whole network's, for ADMIN, can be
/// more.
pub const WEBHOOKS_LISTED: usize = 100;

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The webhooks the caller manages (a partner its own organisation's, ADMIN all), oldest
    /// first; narrowed to one organisation. When the network has more than 100, ADMIN asks per
    /// organisation (BAD_USER_INPUT otherwise: a list is never cut short without saying so).
    #[graphql(
        guard = "RoleIn(WEBHOOK_MANAGERS)",
        visible = "crate::policy::visible::webhooks",
        complexity = "crate::connection::capped(WEBHOOKS_LISTED, child_complexity)"
    )]
    async fn webhooks(&self, ctx: &Context<'_>, organisation_id: Option<ID>) -> ApiResult<Vec<Webhook>> {
        let caller = crate::caller_of(ctx)?;
        let most = WEBHOOKS_LISTED;
        let mut select = webhook::Entity::find().filter(policy::webhooks(caller));
        if let Some(org) = &organisation_id {
            select = select.filter(webhook::Column::OrganisationId.eq(parse_id(org, "organisationId")?));
        }
        let rows = sea_orm::QuerySelect::limit(
            select.order_by_asc(webhook::Column::CreatedAt).order_by_asc(webhook::Column::Id),
            most as u64 + 1,
        )
        .all(crate::db_of(ctx)?)
        .await?;
        if rows.len() > most {
            return Err(ApiError::bad_input(
                "organisationId",
                &format!("more than {most} webhooks: ask for one organisation's (organisationId)"),
            ));
        }
        Ok(rows.into_iter().map(Webhook).collect())
    }

    /// A webhook's deliveries, newest first, each with its attempts.
    #[graphql(
        guard = "RoleIn(WEBHOOK_MANAGERS)",
        visible = "crate::policy::visible::webhooks",
        complexity = "crate::connection::complexity(first, child_complexity)"
    )]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<WebhookDelivery>> {
        let caller = crate::caller_of(ctx)?;
        let webhook_id = parse_id(&webhook_id, "webhookId")?;
        webhook::Entity::find_by_id(webhook_id)
            .filter(policy::webhooks(caller))
            .one(crate::db_of(ctx)?)
            .await?
            .ok_or(ApiError::NotFound("webhook"))?;
        let select =
            webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
        page(ctx, select, &PageArgs::new(first, after), WebhookDelivery).await
    }
}
