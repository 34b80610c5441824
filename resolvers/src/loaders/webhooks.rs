//! The loaders of webhook deliveries' relations: the endpoint a delivery belongs to (within the
//! caller's webhook scope) and its latest attempts, so that a page of deliveries costs the same
//! statements whatever its size.

use std::collections::HashMap;

use entities::{webhook, webhook_attempt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{Fetch, Loaders, columns, group, ids, rekey};
use crate::connection::{Keep, capped_children, caps};
use crate::error::ApiResult;
use crate::policy;

key!(
    /// A webhook by id, within the caller's webhook scope.
    WebhookId,
    /// The attempts of a webhook delivery, oldest first (the latest).
    AttemptsOf,
);

impl Fetch<WebhookId> for Loaders {
    type Value = webhook::Model;
    async fn fetch(&self, keys: &[WebhookId]) -> ApiResult<HashMap<WebhookId, Self::Value>> {
        let scope = policy::webhooks(&self.caller);
        let rows = self.by_id::<webhook::Entity, _>(keys, webhook::Column::Id, scope, |w| w.id).await?;
        Ok(rekey(rows, WebhookId))
    }
}

impl Fetch<AttemptsOf> for Loaders {
    type Value = Vec<webhook_attempt::Model>;
    async fn fetch(&self, keys: &[AttemptsOf]) -> ApiResult<HashMap<AttemptsOf, Self::Value>> {
        // Only the attempts of deliveries to an endpoint the caller may see.
        let visible = sea_orm::sea_query::Query::select()
            .column(entities::webhook_delivery::Column::Id)
            .from(entities::webhook_delivery::Entity)
            .and_where(
                entities::webhook_delivery::Column::WebhookId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(webhook::Column::Id)
                        .from(webhook::Entity)
                        .cond_where(policy::webhooks(&self.caller))
                        .to_owned(),
                ),
            )
            .to_owned();
        let rows = capped_children(
            &self.db,
            webhook_attempt::Entity::find()
                .filter(webhook_attempt::Column::DeliveryId.is_in(ids(keys)))
                .filter(webhook_attempt::Column::DeliveryId.in_subquery(visible)),
            webhook_attempt::Column::DeliveryId,
            &columns::<webhook_attempt::Entity>(&[webhook_attempt::Column::At, webhook_attempt::Column::Id]),
            Keep::Last,
            caps::ATTEMPTS_PER_DELIVERY,
        )
        .await?;
        Ok(rekey(group(rows, |a| a.delivery_id), AttemptsOf))
    }
}
