//! The GraphQL layer of welzijnshuis: types, root queries, the access policy and the
//! per-request DataLoaders.
//!
//! Everything a resolver needs arrives through the GraphQL context:
//! - schema data: the `DatabaseConnection` and the `CursorKey`;
//! - request data (see [`request_data`]): the `Caller` and the request's DataLoader.

pub mod batch;
pub mod caller;
pub mod connection;
pub mod cursor;
pub mod error;
pub mod loaders;
pub mod national_number;
pub mod policy;
pub mod query;
pub mod types;

use std::sync::Arc;

use async_graphql::Context;
use sea_orm::DatabaseConnection;

pub use caller::Caller;
pub use cursor::CursorKey;
pub use error::{ApiError, ApiResult, Code};
pub use query::Query;

/// Attaches a caller and its per-request loaders to a GraphQL request. The request must then be
/// executed under [`BatchQueue::drive`] of the returned queue, or its loaders never answer.
pub fn request_data(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    caller: Caller,
) -> (async_graphql::Request, batch::BatchQueue) {
    let caller = Arc::new(caller);
    let batches = batch::BatchQueue::default();
    let loader = loaders::for_request(db.clone(), caller.clone(), &batches);
    (request.data(caller).data(loader), batches)
}

/// The caller of this request.
pub fn caller_of<'a>(ctx: &Context<'a>) -> ApiResult<&'a Caller> {
    ctx.data::<Arc<Caller>>()
        .map(|caller| caller.as_ref())
        .map_err(|_| ApiError::internal("request without caller"))
}

/// The database.
pub fn db_of<'a>(ctx: &Context<'a>) -> ApiResult<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>().map_err(|_| ApiError::internal("schema without database"))
}

/// The key cursors are sealed with.
pub fn cursor_key_of<'a>(ctx: &Context<'a>) -> ApiResult<&'a CursorKey> {
    ctx.data::<CursorKey>().map_err(|_| ApiError::internal("schema without cursor key"))
}
