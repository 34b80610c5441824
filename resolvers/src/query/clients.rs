//! Clients: the welfare house's staff read all, a partner those of its referrals.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;
use entities::client;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, ExprTrait, QueryFilter};

use crate::connection::{Keyset, Page, PageArgs, page_in};
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, CLIENT_READERS};
use crate::types::client::Client;
use crate::types::parse_id;

#[derive(Default)]
pub struct ClientQuery;

/// Finds clients by what the desk knows of them (staff only: a filter on a field you cannot
/// read would confirm its value).
#[derive(InputObject, Default)]
pub struct ClientFilter {
    /// The start of the given or family name (case-insensitive).
    pub name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
}

#[Object]
impl ClientQuery {
    /// The clients you may see: for the welfare house's staff by family name, for a partner by
    /// id (a partner may not read every client's name, so its list is never ordered by one).
    #[graphql(
        guard = "RoleIn(CLIENT_READERS)",
        visible = "crate::policy::visible::client_data",
        complexity = "crate::connection::complexity(first, child_complexity)"
    )]
    async fn clients(
        &self,
        ctx: &Context<'_>,
        filter: Option<ClientFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Client>> {
        let caller = crate::caller_of(ctx)?;
        let mut select = client::Entity::find().filter(policy::clients(caller));
        if let Some(filter) = filter {
            if !policy::may_search_clients(caller) {
                return Err(ApiError::Forbidden);
            }
            select = select.filter(client_condition(filter));
        }
        // Who may not filter by personal data may not have it sorted by either: the order of a
        // list would tell the names it may not read.
        let sort = if policy::may_search_clients(caller) {
            client::Entity::sort()
        } else {
            crate::types::client::by_id()
        };
        page_in(ctx, select, &sort, &PageArgs::new(first, after), Client).await
    }

    /// A client by id: `null` with NOT_FOUND when it does not exist or is not yours to see.
    #[graphql(guard = "RoleIn(CLIENT_READERS)", visible = "crate::policy::visible::client_data")]
    async fn client(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Client>> {
        let id = parse_id(&id, "id")?;
        let caller = crate::caller_of(ctx)?;
        let found =
            client::Entity::find_by_id(id).filter(policy::clients(caller)).one(crate::db_of(ctx)?).await?;
        found.map(Client).map(Some).ok_or(ApiError::NotFound("client"))
    }
}

fn client_condition(filter: ClientFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(name) = filter.name.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()) {
        let pattern = format!("{}%", escape_like(&name));
        let starts = |column: client::Column| {
            Expr::expr(Func::lower(Expr::col((client::Entity, column))))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
        };
        condition = condition.add(
            Condition::any().add(starts(client::Column::GivenName)).add(starts(client::Column::FamilyName)),
        );
    }
    if let Some(date) = filter.date_of_birth {
        condition = condition.add(client::Column::DateOfBirth.eq(date));
    }
    condition
}

/// Escapes LIKE's wildcards so a name is matched literally.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
