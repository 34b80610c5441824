//! Assembles the welzijnshuis GraphQL schema. `main` and every test build it through
//! [`build`], and `schema.graphql` beside this crate is the committed SDL, kept equal to
//! [`sdl`] by a test.

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::{Response, Schema, SchemaBuilder};
use resolvers::error::code_of;
use resolvers::events::EventBus;
use resolvers::subscription::OpenSubscriptions;
use resolvers::{Code, CursorKey, Mutation, Query, Subscription};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

mod documents;
mod introspection;
mod limits;
mod operation_name;
mod response_shape;
mod role_sdl;

pub use documents::{Documents, sha256};
pub use introspection::Introspection;
pub use limits::{Limits, within_tokens};
pub use role_sdl::sdl_for;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The committed SDL.
pub const COMMITTED_SDL: &str = include_str!("../schema.graphql");

/// How the schema is run: its limits, its known documents, who may introspect it.
#[derive(Clone, Default)]
pub struct Settings {
    pub limits: Limits,
    pub documents: Documents,
    pub introspection: Introspection,
}

pub(crate) fn builder(settings: &Settings) -> SchemaBuilder<Query, Mutation, Subscription> {
    let limits = &settings.limits;
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .extension(documents::PersistedDocuments(settings.documents.clone()))
        .extension(introspection::IntrospectionPolicy(settings.introspection))
        .extension(limits::DocumentLimits(limits.clone()))
        .extension(ErrorCodes)
        .extension(response_shape::ResponseShape)
        .extension(operation_name::OperationName)
}

/// The schema, served over `db`, sealing cursors with `cursor_key`, handing referral events
/// to subscribers through `events` (at most so many per user, counted in `subscriptions`) and
/// running requests as `settings` say.
pub fn build(
    db: DatabaseConnection,
    cursor_key: CursorKey,
    events: EventBus,
    subscriptions: OpenSubscriptions,
    settings: &Settings,
) -> AppSchema {
    builder(settings).data(db).data(cursor_key).data(events).data(subscriptions).finish()
}

/// Executes a request for `caller`, with its per-request loaders. `request_id` names the request
/// in the log, in the audit trail and in the `extensions.requestId` of an `INTERNAL` error.
pub async fn execute(
    schema: &AppSchema,
    request: async_graphql::Request,
    db: &DatabaseConnection,
    caller: resolvers::Caller,
    request_id: &str,
) -> Response {
    execute_named(schema, request, db, caller, request_id).await.response
}

/// [`execute`], also telling the name of the operation that ran.
pub async fn execute_named(
    schema: &AppSchema,
    request: async_graphql::Request,
    db: &DatabaseConnection,
    caller: resolvers::Caller,
    request_id: &str,
) -> resolvers::Executed {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "graphql",
        request_id = %request_id,
        role = %caller.role,
        operation = tracing::field::Empty,
    );
    let executed =
        resolvers::prepare(request, db, caller).run(schema, db, request_id).instrument(span.clone()).await;
    if let Some(name) = &executed.operation {
        span.record("operation", name.as_str());
    }
    executed
}

/// The schema's SDL, as `welzijnshuis schema` prints it.
pub fn sdl() -> String {
    builder(&Settings::default()).finish().sdl()
}

/// The caller of a request about to be prepared: in its own data (HTTP) or in its connection's
/// (WebSocket).
pub(crate) fn caller_of_request(ctx: &ExtensionContext<'_>, request: &async_graphql::Request) -> Option<Arc<resolvers::Caller>> {
    let own = request.data.get(&std::any::TypeId::of::<Arc<resolvers::Caller>>());
    own.and_then(|data| data.downcast_ref::<Arc<resolvers::Caller>>())
        .or_else(|| ctx.data_opt::<Arc<resolvers::Caller>>())
        .cloned()
}

/// Gives every error an `extensions.code`. Errors raised by our resolvers carry one already;
/// the rest come from async-graphql itself: limits (QUERY_TOO_COMPLEX) or a request that does not
/// parse, validate or coerce (BAD_USER_INPUT).
struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            if code_of(error).is_none() {
                let code = if is_limit(&error.message) { Code::QueryTooComplex } else { Code::BadUserInput };
                error.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
            }
        }
        response
    }
}

fn is_limit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["too complex", "too deep", "nested too deep", "too many"].iter().any(|m| message.contains(m))
}
