//! Who may introspect the schema. Roles already see only their part of it (see `role_sdl`);
//! in production an operator may also switch introspection off for all but staff, or for all.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::{IntrospectionMode, Request, ServerResult};
use entities::Role;

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
            Introspection::Staff => matches!(role, Role::Admin | Role::Intake | Role::CaseWorker | Role::Analyst),
            Introspection::Off => false,
        }
    }
}

pub(crate) struct IntrospectionPolicy(pub Introspection);

impl ExtensionFactory for IntrospectionPolicy {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(IntrospectionPolicy(self.0))
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for IntrospectionPolicy {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let role = crate::caller_of_request(ctx, &request).map_or(Role::Public, |caller| caller.role);
        if !self.0.allows(role) {
            request.introspection_mode = IntrospectionMode::Disabled;
        }
        next.run(ctx, request).await
    }
}
