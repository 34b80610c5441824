use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::types::me::Me;

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// Who you are: your role, user and organisation (role PUBLIC without a token).
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Me> {
        Ok(Me(crate::caller_of(ctx)?.clone()))
    }
}
