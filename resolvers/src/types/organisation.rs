use async_graphql::{Context, ID, Object};
use entities::{organisation, service};

use super::office_hours::{OfficeHours, OfficeHoursClosure};
use super::service::Service;
use super::{OrganisationKind, id};
use crate::connection::{Keyset, Page, PageArgs, nested_page};
use crate::cursor::KeyPart;
use crate::error::ApiResult;
use crate::loaders::{
    ChildCount, OfficeHoursOf, ServicesPage, UPCOMING_CLOSURES, UpcomingClosuresOf, request_loader,
};

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
    /// For kind OTHER: what kind of partner it is, in its own words.
    async fn kind_label(&self) -> Option<&str> {
        self.0.kind_label.as_deref()
    }
    /// A deactivated organisation's people cannot sign in and it receives no new referrals; its
    /// referrals and history stay.
    async fn active(&self) -> bool {
        self.0.active
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
    #[graphql(complexity = "crate::connection::complexity(first, child_complexity)")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Service>> {
        let organisation = self.0.id;
        nested_page::<service::Entity, _, _>(
            ctx,
            PageArgs::new(first, after),
            |size, after| ServicesPage { organisation, size, after },
            ChildCount::ServicesOf(organisation),
            Service::of,
        )
        .await
    }
    /// The organisation's weekly office hours ("zitdagen") at the welfare house, by weekday and
    /// time; `officeHours` at the root cuts them into bookable slots.
    #[graphql(complexity = "crate::connection::capped(crate::weekly_hours::MAX_INTERVALS, child_complexity)")]
    async fn office_hours(&self, ctx: &Context<'_>) -> ApiResult<Vec<OfficeHours>> {
        let hours = request_loader(ctx)?.load_one(OfficeHoursOf(self.0.id)).await?;
        Ok(hours.unwrap_or_default().into_iter().map(OfficeHours).collect())
    }
    /// The closures of its office hours that are not over (nor lifted), soonest first (the
    /// first 20); `officeHoursClosures` at the root lists any window.
    #[graphql(complexity = "crate::connection::capped(UPCOMING_CLOSURES, child_complexity)")]
    async fn office_hours_closures(&self, ctx: &Context<'_>) -> ApiResult<Vec<OfficeHoursClosure>> {
        let closures = request_loader(ctx)?.load_one(UpcomingClosuresOf(self.0.id)).await?;
        Ok(closures.unwrap_or_default().into_iter().map(OfficeHoursClosure).collect())
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
