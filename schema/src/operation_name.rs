//! Names the operation of a request for its audit trail when the client did not send an
//! `operationName`: a document with one named operation runs that one.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{ServerResult, Variables};
use resolvers::audit::AuditTrail;

pub struct OperationName;

impl ExtensionFactory for OperationName {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationName)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for OperationName {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(trail) = ctx.data_opt::<Arc<AuditTrail>>() {
            trail.name_operation(single_name(&document));
        }
        Ok(document)
    }
}

/// The name of a document's one operation, if it has one and only one.
pub(crate) fn single_name(document: &ExecutableDocument) -> Option<String> {
    match &document.operations {
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        _ => None,
    }
}
