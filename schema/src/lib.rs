//! Assembles the welzijnshuis GraphQL schema. `main` and every test build it through
//! [`Api::build`], and `schema.graphql` beside this crate is the committed SDL, kept equal to
//! [`sdl`] by a test.

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, Schema, SchemaBuilder};
use resolvers::error::code_of;
use resolvers::events::EventBus;
use resolvers::subscription::EventToDeliver;
use resolvers::{Code, CursorKey, Mutation, Provenance, Query, Subscription};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

mod documents;
mod introspection;
mod limits;
mod operation_name;
mod parsed;
mod response_shape;
mod role_sdl;
mod shape;

pub use documents::{Documents, sha256};
pub use introspection::Introspection;
pub use limits::{Limits, within_nesting, within_tokens};

/// The deepest selection a configuration may allow: the brackets' bound, checked before parsing.
pub fn within_nesting_limit() -> usize {
    limits::MAX_TEXT_NESTING
}
pub use role_sdl::sdl_for;
pub use shape::MAX_VALUE_NESTING;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The committed SDL.
pub const COMMITTED_SDL: &str = include_str!("../schema.graphql");

/// How the schema is run: its limits, its known documents, who may introspect it.
#[derive(Clone, Default)]
pub struct Settings {
    pub limits: Limits,
    pub documents: Documents,
    pub introspection: Introspection,
    /// Which webhook endpoints may be registered.
    pub webhook_urls: resolvers::webhooks::UrlRules,
}

/// The schema with the limits async-graphql checks itself. No extensions: async-graphql runs
/// every field of every object through the extension chain when there is one (a third of the
/// partner inbox's CPU time), and every check of ours runs once per operation in
/// [`Api::execute`]. No suggestions either: "Did you mean" could name a field the caller's role
/// does not see.
pub(crate) fn builder(settings: &Settings) -> SchemaBuilder<Query, Mutation, Subscription> {
    let limits = &settings.limits;
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .disable_suggestions()
}

/// The API: one schema, and the checks every operation passes before it runs, whatever door it
/// came through (HTTP, a WebSocket message, one event of a subscription).
#[derive(Clone)]
pub struct Api {
    schema: AppSchema,
    settings: Arc<Settings>,
    shapes: shape::RoleShapes,
    parsed: parsed::Parsed,
    writes: resolvers::writes::WriteQueue,
    audit: resolvers::audit_writer::AuditWriter,
}

impl Api {
    /// The API over `db`, sealing cursors with `cursor_key`, announcing referral events on
    /// `events`, and running operations as `settings` say.
    pub async fn build(
        db: DatabaseConnection,
        cursor_key: CursorKey,
        events: EventBus,
        settings: Settings,
    ) -> Api {
        let writes = resolvers::writes::WriteQueue::for_database(&db);
        let audit = resolvers::audit_writer::AuditWriter::start(db.clone(), writes.clone());
        let schema = builder(&settings)
            .data(db)
            .data(cursor_key)
            .data(events)
            .data(settings.webhook_urls.clone())
            .finish();
        let shapes = shape::RoleShapes::read(&schema).await;
        Api { schema, settings: Arc::new(settings), shapes, parsed: Default::default(), writes, audit }
    }

    /// The order this process's writers take (one at a time on SQLite): for writes made
    /// beside the API, such as the daily retention run.
    pub fn write_queue(&self) -> resolvers::writes::WriteQueue {
        self.writes.clone()
    }

    /// The known documents (persisted and trusted).
    pub fn documents(&self) -> &Documents {
        &self.settings.documents
    }

    /// The type of the operation `request` selects, if its document is known to `caller`, keeps
    /// to the text limits and parses (else execution reports why).
    pub fn operation_type(
        &self,
        request: &async_graphql::Request,
        caller: Option<&resolvers::Caller>,
    ) -> Option<OperationType> {
        let text = if request.query.is_empty() {
            let hash = request.extensions.get("persistedQuery").and_then(|p| match p {
                async_graphql::Value::Object(fields) => fields.get("sha256Hash").cloned(),
                _ => None,
            });
            match hash {
                Some(async_graphql::Value::String(hash)) => {
                    self.documents().lookup(&hash.to_ascii_lowercase(), caller)?
                }
                _ => return None,
            }
        } else {
            request.query.clone()
        };
        limits::check_text(&text, &self.settings.limits).ok()?;
        let document = self.parsed.parse(caller.and_then(sender), &text).ok()?;
        selected(&document, request.operation_name.as_deref()).map(|(_, ty)| ty)
    }

    /// Executes one operation for `caller`, with its own loaders and audit trail. With `event`,
    /// the operation is a subscription delivering that one event: `None` when the caller may
    /// not see it. `provenance` names the operation in the log, in the audit trail and in the
    /// `extensions.requestId` of an `INTERNAL` error.
    pub async fn execute(
        &self,
        request: async_graphql::Request,
        db: &DatabaseConnection,
        caller: resolvers::Caller,
        provenance: &Provenance,
        event: Option<EventToDeliver>,
    ) -> Option<resolvers::Executed> {
        use tracing::Instrument;
        let span = tracing::info_span!(
            "graphql",
            request_id = %provenance.request_id,
            role = %caller.role,
            operation = tracing::field::Empty,
        );
        let mut prepared = resolvers::prepare(request, db, caller, &self.writes, &self.audit);
        prepared.request = prepared.request.data(provenance.clone());
        let checked = self.check(&mut prepared.request, &prepared.caller, event.is_some());
        let mut executed = match checked {
            Ok(document) => {
                prepared.trail.name_operation(operation_name::single_name(&document));
                let operation = prepared.request.operation_name.clone();
                let mut executed =
                    prepared.run(&self.schema, db, provenance, event).instrument(span.clone()).await?;
                response_shape::restore(&mut executed.response, Some(&*document), operation.as_deref());
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
        Some(executed)
    }

    /// The checks of every operation, once: the document by its hash, introspection, the text's
    /// limits, parse, the document's limits, the caller's role-shaped schema and input, and that
    /// a subscription comes only as one (`subscribing`) with exactly one root field. Hands the
    /// request its parsed document (the caller's earlier parse of the same text, once that passed
    /// these checks: `parsed`) and returns it (for the response's shape).
    fn check(
        &self,
        request: &mut async_graphql::Request,
        caller: &resolvers::Caller,
        subscribing: bool,
    ) -> async_graphql::ServerResult<Arc<ExecutableDocument>> {
        let settings = &self.settings;
        let to_register = settings.documents.resolve(request, Some(caller)).map_err(server_error)?;
        settings.introspection.apply(request, caller.role);
        limits::check_text(&request.query, &settings.limits)?;
        let sender = sender(caller);
        let kept = self.parsed.find(sender, &request.query);
        let document = match &kept {
            Some(document) => document.clone(),
            None => Arc::new(async_graphql::parser::parse_query(&request.query)?),
        };
        limits::check_document(&document, &settings.limits)?;
        self.shapes.check(caller.role, &document, &request.variables)?;
        settings.introspection.check(&document, caller.role)?;
        if let Some(hash) = to_register {
            settings.documents.register(hash, request.query.clone(), caller);
        }
        if let Some((roots, ty)) = selected(&document, request.operation_name.as_deref()) {
            let is_subscription = ty == OperationType::Subscription;
            if is_subscription && !subscribing {
                let message = "a subscription runs over the WebSocket at /graphql/ws (graphql-transport-ws)";
                return Err(server_error(resolvers::ApiError::bad_input("query", message)));
            }
            if is_subscription && roots != 1 {
                let message = "a subscription selects exactly one root field";
                return Err(server_error(resolvers::ApiError::bad_input("query", message)));
            }
            let read_only = request.data.contains_key(&std::any::TypeId::of::<resolvers::ReadOnly>());
            if read_only && ty == OperationType::Mutation {
                return Err(server_error(resolvers::ApiError::MutationOverGet));
            }
            if subscribing && !is_subscription {
                return Err(server_error(resolvers::ApiError::internal(
                    "an event for an operation that is not a subscription",
                )));
            }
        }
        if kept.is_none() {
            self.parsed.keep(sender, &request.query, &document);
        }
        request.set_parsed_query(ExecutableDocument::clone(&document));
        Ok(document)
    }
}

/// Whose parses a caller may find (`parsed`).
fn sender(caller: &resolvers::Caller) -> parsed::Sender {
    caller.user_id().or(caller.client)
}

/// The operation a request selects: its root fields (through fragments) and its type.
fn selected(document: &ExecutableDocument, name: Option<&str>) -> Option<(usize, OperationType)> {
    let operation = match name {
        Some(name) => document.operations.iter().find(|(n, _)| n.map(|n| n.as_str()) == Some(name)),
        None => document.operations.iter().next(),
    }?;
    let roots = limits::root_fields(&operation.1.node.selection_set.node, document);
    Some((roots, operation.1.node.ty))
}

/// The schema's SDL, as `welzijnshuis schema` prints it.
pub fn sdl() -> String {
    builder(&Settings::default()).finish().sdl()
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
    ["too complex", "too deep", "nested too deep", "too many", "recursion depth"]
        .iter()
        .any(|m| message.contains(m))
}
