//! Assembles the welzijnshuis GraphQL schema. `main` and every test build it through
//! [`Api::build`], and `schema.graphql` beside this crate is the committed SDL, kept equal to
//! [`sdl`] by a test.

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::parser::types::ExecutableDocument;
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

/// The schema with its limits, and (`with_checks`) the extensions that make every request pass
/// the checks of [`Api::execute`]: documents, introspection, limits, error codes, response shape.
pub(crate) fn builder(
    settings: &Settings,
    with_checks: bool,
) -> SchemaBuilder<Query, Mutation, Subscription> {
    let limits = &settings.limits;
    let builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity);
    if !with_checks {
        return builder;
    }
    builder
        .extension(documents::PersistedDocuments(settings.documents.clone()))
        .extension(introspection::IntrospectionPolicy(settings.introspection))
        .extension(limits::DocumentLimits(limits.clone()))
        .extension(ErrorCodes)
        .extension(response_shape::ResponseShape)
        .extension(operation_name::OperationName)
}

/// The API: one schema for queries and mutations, whose checks run around execution in
/// [`Api::execute`], and the same schema with those checks as extensions for subscriptions
/// (a WebSocket's requests reach the schema directly). Why two: async-graphql runs every
/// field of every object through the extension chain when there is one, which cost a third of
/// the partner inbox's CPU time, though none of our checks looks at fields.
#[derive(Clone)]
pub struct Api {
    schema: AppSchema,
    subscriptions: AppSchema,
    settings: Arc<Settings>,
}

impl Api {
    /// The API over `db`, sealing cursors with `cursor_key`, handing referral events to
    /// subscribers through `events` (at most so many per user, counted in `open`) and running
    /// requests as `settings` say.
    pub fn build(
        db: DatabaseConnection,
        cursor_key: CursorKey,
        events: EventBus,
        open: OpenSubscriptions,
        settings: Settings,
    ) -> Api {
        let data = |builder: SchemaBuilder<Query, Mutation, Subscription>| {
            builder.data(db.clone()).data(cursor_key.clone()).data(events.clone()).data(open.clone()).finish()
        };
        Api {
            schema: data(builder(&settings, false)),
            subscriptions: data(builder(&settings, true)),
            settings: Arc::new(settings),
        }
    }

    /// The schema WebSocket connections run on.
    pub fn subscriptions(&self) -> &AppSchema {
        &self.subscriptions
    }

    /// The known documents (persisted and trusted).
    pub fn documents(&self) -> &Documents {
        &self.settings.documents
    }

    /// Executes a request for `caller`, with its per-request loaders, and says which operation
    /// ran. `request_id` names the request in the log, in the audit trail and in the
    /// `extensions.requestId` of an `INTERNAL` error.
    pub async fn execute(
        &self,
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
        let mut prepared = resolvers::prepare(request, db, caller);
        let checked = self.check(&mut prepared.request, &prepared.caller);
        let mut executed = match checked {
            Ok(document) => {
                prepared.trail.name_operation(operation_name::single_name(&document));
                let operation = prepared.request.operation_name.clone();
                let mut executed = prepared.run(&self.schema, db, request_id).instrument(span.clone()).await;
                response_shape::restore(&mut executed.response, Some(&document), operation.as_deref());
                executed
            }
            Err(error) => {
                resolvers::Executed { response: Response::from_errors(vec![error]), operation: None }
            }
        };
        fill_codes(&mut executed.response);
        if let Some(name) = &executed.operation {
            span.record("operation", name.as_str());
        }
        executed
    }

    /// What the extensions check on the WebSocket schema, checked once: the document by its hash,
    /// introspection, token limit, parse, the document's limits. Hands the request its parsed
    /// document and returns a copy (for the response's shape).
    fn check(
        &self,
        request: &mut async_graphql::Request,
        caller: &resolvers::Caller,
    ) -> async_graphql::ServerResult<ExecutableDocument> {
        let settings = &self.settings;
        settings.documents.resolve(request, Some(caller)).map_err(server_error)?;
        settings.introspection.apply(request, caller.role);
        limits::check_text(&request.query, &settings.limits)?;
        let document = async_graphql::parser::parse_query(&request.query)?;
        limits::check_document(&document, &settings.limits)?;
        settings.introspection.check(&document, caller.role)?;
        request.set_parsed_query(document.clone());
        Ok(document)
    }
}

/// The schema's SDL, as `welzijnshuis schema` prints it.
pub fn sdl() -> String {
    builder(&Settings::default(), false).finish().sdl()
}

/// The caller of a request about to be prepared: in its own data (HTTP) or in its connection's
/// (WebSocket).
pub(crate) fn caller_of_request(
    ctx: &ExtensionContext<'_>,
    request: &async_graphql::Request,
) -> Option<Arc<resolvers::Caller>> {
    let own = request.data.get(&std::any::TypeId::of::<Arc<resolvers::Caller>>());
    own.and_then(|data| data.downcast_ref::<Arc<resolvers::Caller>>())
        .or_else(|| ctx.data_opt::<Arc<resolvers::Caller>>())
        .cloned()
}

/// An error raised before execution: no location, no path, its code in `extensions`.
pub(crate) fn server_error(err: resolvers::ApiError) -> async_graphql::ServerError {
    let error = async_graphql::Error::from(err);
    let mut server_error = async_graphql::ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    server_error
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
        fill_codes(&mut response);
        response
    }
}

fn fill_codes(response: &mut Response) {
    for error in &mut response.errors {
        if code_of(error).is_none() {
            let code = if is_limit(&error.message) { Code::QueryTooComplex } else { Code::BadUserInput };
            error.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
        }
    }
}

fn is_limit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["too complex", "too deep", "nested too deep", "too many"].iter().any(|m| message.contains(m))
}
