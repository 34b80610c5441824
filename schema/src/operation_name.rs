//! Names the operation of a request for its audit trail when the client did not send an
//! `operationName`: a document with one named operation runs that one.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};

/// The name of a document's one operation, if it has one and only one.
pub(crate) fn single_name(document: &ExecutableDocument) -> Option<String> {
    match &document.operations {
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        _ => None,
    }
}
