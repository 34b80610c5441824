//! The GraphQL layer of welzijnshuis: types, root queries, the access policy and the
//! per-request DataLoaders.
//!
//! Everything a resolver needs arrives through the GraphQL context:
//! - schema data: the `DatabaseConnection` and the `CursorKey`;
//! - request data (see [`prepare`]): the `Caller`, the request's DataLoader and audit trail.

pub mod audit;
pub mod audit_writer;
pub mod batch;
pub mod caller;
pub mod connection;
pub mod cursor;
pub mod erasure;
pub mod error;
pub mod events;
pub mod export;
pub mod guards;
pub mod lifecycle;
pub mod loaders;
pub mod merge;
pub mod mutation;
pub mod national_number;
pub mod office_hours;
pub mod policy;
pub mod query;
pub mod social_map_rules;
pub mod subscription;
pub mod suppression;
pub mod types;
pub mod webhooks;
pub mod weekly_hours;
pub mod writes;

use std::sync::Arc;

use async_graphql::Context;
use sea_orm::DatabaseConnection;

pub use caller::Caller;
pub use cursor::CursorKey;
pub use error::{ApiError, ApiResult, Code};
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

/// One operation made ready for one caller: its loaders, their batch queue and its audit trail.
/// Every operation gets its own, whatever its transport: nothing a caller loaded or was allowed
/// outlives the operation. Run it with [`Prepared::run`].
pub struct Prepared {
    pub request: async_graphql::Request,
    pub batches: batch::BatchQueue,
    pub trail: Arc<audit::AuditTrail>,
    pub caller: Arc<Caller>,
    pub turn: Arc<writes::WriteTurn>,
    pub audit: audit_writer::AuditWriter,
}

/// Where an operation came from, as the server and as the caller name it.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// The server's own id of this operation: in the log, the audit trail and `INTERNAL` errors.
    pub request_id: String,
    /// What the caller sent as its id (`X-Request-Id`, or a WebSocket message's id): kept apart,
    /// as the caller's word.
    pub caller_request_id: Option<String>,
}

/// Attaches a caller, its per-operation loaders and an audit trail to a GraphQL request.
pub fn prepare(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    caller: Caller,
    writes: &writes::WriteQueue,
    audit: &audit_writer::AuditWriter,
) -> Prepared {
    let caller = Arc::new(caller);
    let batches = batch::BatchQueue::default();
    let trail = Arc::new(audit::AuditTrail::default());
    trail.name_operation(request.operation_name.clone());
    let loader = loaders::for_request(db.clone(), caller.clone(), &batches);
    let turn = Arc::new(writes::WriteTurn::new(writes));
    let request = request.data(caller.clone()).data(loader).data(trail.clone()).data(turn.clone());
    Prepared { request, batches, trail, caller, turn, audit: audit.clone() }
}

impl Prepared {
    /// Executes the operation on `schema` and writes its audit trail; when the trail cannot be
    /// written the response is replaced by an `INTERNAL` error. With `event`, the operation is a
    /// subscription delivering that one event: `None` when the caller may not see it.
    pub async fn run<Q, M, S>(
        self,
        schema: &async_graphql::Schema<Q, M, S>,
        db: &DatabaseConnection,
        provenance: &Provenance,
        event: Option<subscription::EventToDeliver>,
    ) -> Option<Executed>
    where
        Q: async_graphql::ObjectType + 'static,
        M: async_graphql::ObjectType + 'static,
        S: async_graphql::SubscriptionType + 'static,
    {
        use futures_util::StreamExt;
        let response = match event {
            None => Some(self.batches.drive(schema.execute(self.request)).await),
            Some(event) => {
                let mut stream = schema.execute_stream(self.request.data(event));
                self.batches.drive(stream.next()).await
            }
        };
        let operation = self.trail.operation();
        let flushed = self.trail.flush(db, &self.caller, provenance, &self.turn, &self.audit).await;
        let mut response = match flushed {
            Ok(()) => response?,
            Err(err) => {
                let error: async_graphql::Error = err.into();
                async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())])
            }
        };
        // The log holds what went wrong under this id; the caller gets the id and no detail.
        for error in &mut response.errors {
            if error::code_of(error).as_deref() == Some(Code::Internal.as_str()) {
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("requestId", &*provenance.request_id);
            }
        }
        Some(Executed { response, operation })
    }
}

/// Marks an operation that came by a method that may only read (HTTP GET or HEAD): a mutation
/// is refused.
#[derive(Clone, Copy, Debug)]
pub struct ReadOnly;

/// An operation's response, and the name of the operation it ran (for metrics).
pub struct Executed {
    pub response: async_graphql::Response,
    pub operation: Option<String>,
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

/// Starts the transaction of a mutation. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a transaction that reads and then writes would otherwise fail with "database is
/// locked" when another writer got in between, instead of waiting its turn.
///
/// The operation takes its turn among this process's writers first ([`writes`]).
pub async fn write_transaction(ctx: &Context<'_>) -> ApiResult<sea_orm::DatabaseTransaction> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    if let Ok(turn) = ctx.data::<Arc<writes::WriteTurn>>() {
        turn.take().await;
    }
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db_of(ctx)?.begin_with_options(options).await?)
}
