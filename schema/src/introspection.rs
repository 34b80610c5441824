//! Who may introspect the schema. Roles already see only their part of it (see `role_sdl`);
//! in production an operator may also switch introspection off for all but staff, or for all.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{IntrospectionMode, Request, ServerResult};
use entities::Role;
use resolvers::ApiError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Introspection {
    /// Everyone, each role its own view.
    #[default]
    All,
    /// ADMIN, INTAKE, CASE_WORKER and ANALYST only.
    Staff,
    /// No one.
    Off,
}

impl Introspection {
    fn allows(self, role: Role) -> bool {
        match self {
            Introspection::All => true,
            Introspection::Staff => resolvers::policy::STAFF.contains(&role),
            Introspection::Off => false,
        }
    }
}

impl Introspection {
    /// Switches introspection off for a request of a role that may not introspect.
    pub(crate) fn apply(self, request: &mut Request, role: Role) {
        if !self.allows(role) {
            // Nested `__type` and the like resolve to null; asking at the root is refused by `check`.
            request.introspection_mode = IntrospectionMode::Disabled;
        }
    }

    /// Refuses a document that asks for `__schema` or `__type` of a role that may not.
    pub(crate) fn check(self, document: &ExecutableDocument, role: Role) -> ServerResult<()> {
        if !self.allows(role) && introspects(document) {
            return Err(crate::server_error(ApiError::IntrospectionOff));
        }
        Ok(())
    }
}

fn introspects(document: &ExecutableDocument) -> bool {
    fn root_asks(set: &SelectionSet, document: &ExecutableDocument, depth: usize) -> bool {
        depth < 8
            && set.items.iter().any(|item| match &item.node {
                Selection::Field(field) => matches!(field.node.name.node.as_str(), "__schema" | "__type"),
                Selection::InlineFragment(f) => root_asks(&f.node.selection_set.node, document, depth + 1),
                Selection::FragmentSpread(spread) => document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .is_some_and(|f| root_asks(&f.node.selection_set.node, document, depth + 1)),
            })
    }
    document.operations.iter().any(|(_, op)| root_asks(&op.node.selection_set.node, document, 0))
}
