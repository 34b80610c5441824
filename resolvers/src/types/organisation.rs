use async_graphql::{Context, ID, Object};
use entities::{organisation, service};

use super::service::Service;
use super::{OrganisationKind, id};
use crate::connection::{Keyset, Page, PageArgs, TotalCount, child_args, connection_of};
use crate::cursor::KeyPart;
use crate::error::ApiResult;
use crate::loaders::{ChildCount, ServicesPage, request_loader};

/// An organisation of the network: the welfare house or a partner.
pub struct Organisation(pub organisation::Model);

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> OrganisationKind {
        self.0.kind.into()
    }
    /// Whether the organisation is a partner of the welfare house's network (and so may receive
    /// referrals).
    async fn is_network_partner(&self) -> bool {
        self.0.is_network_partner
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// The organisation's services on the social map, by name.
    async fn services(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Service>> {
        let args = PageArgs::new(first, after);
        let (size, after) = child_args::<service::Entity>(ctx, &args)?;
        let key = ServicesPage {
            organisation: self.0.id,
            size,
            after,
        };
        let (rows, has_next) = request_loader(ctx)?
            .load_one(key)
            .await?
            .unwrap_or_default();
        let total = TotalCount::of_children(ChildCount::ServicesOf(self.0.id));
        Ok(connection_of::<service::Entity, _>(
            crate::cursor_key_of(ctx)?,
            rows,
            args.after.is_some(),
            has_next,
            total,
            Service,
        ))
    }
}

impl Keyset for organisation::Entity {
    const KIND: &'static str = "organisation";
    const DESCENDING: bool = false;
    fn columns() -> Vec<organisation::Column> {
        vec![organisation::Column::Name, organisation::Column::Id]
    }
    fn key(model: &organisation::Model) -> Vec<KeyPart> {
        vec![KeyPart::Text(model.name.clone()), KeyPart::Id(model.id)]
    }
}
