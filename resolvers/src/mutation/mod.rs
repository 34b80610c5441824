//! The root `Mutation`, merged from one object per domain. Every mutation runs in one
//! transaction, together with its audit entry: it happens entirely or not at all.

mod consents;

use async_graphql::MergedObject;

pub use consents::RecordConsentInput;

#[derive(MergedObject, Default)]
#[graphql(visible = "crate::policy::visible::any_mutation")]
pub struct Mutation(consents::ConsentMutation);
