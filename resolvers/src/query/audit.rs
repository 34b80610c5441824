//! The audit log: the whole of it for ADMIN, their own access log for a client.

use async_graphql::{Context, ID, Object};
use entities::audit_entry;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::connection::{Page, PageArgs, page};
use crate::error::ApiResult;
use crate::guards::RoleIn;
use crate::policy::{self, ACCESS_LOG_READERS, AUDIT_READERS};
use crate::types::audit::AuditEntry;
use crate::types::parse_id;

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Who read or changed what, newest first; narrowed to one client (with what was written
    /// under the ids of duplicates merged into it) and/or one user.
    #[graphql(
        guard = "RoleIn(AUDIT_READERS)",
        visible = "crate::policy::visible::audit_log",
        complexity = "crate::connection::complexity(first, child_complexity)"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        client_id: Option<ID>,
        user_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<AuditEntry>> {
        let mut select = audit_entry::Entity::find();
        if let Some(client) = client_id {
            select = select.filter(crate::audit::of_client(parse_id(&client, "clientId")?));
        }
        if let Some(user) = user_id {
            select = select.filter(audit_entry::Column::UserId.eq(parse_id(&user, "userId")?));
        }
        page(ctx, select, &PageArgs::new(first, after), AuditEntry).await
    }

    /// Who looked at your file: every read and change of your data, newest first — when, which
    /// organisation and role, which categories, which operation — as the audit log holds it.
    #[graphql(
        guard = "RoleIn(ACCESS_LOG_READERS)",
        visible = "crate::policy::visible::access_log",
        complexity = "crate::connection::complexity(first, child_complexity)"
    )]
    async fn my_access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<AuditEntry>> {
        let caller = crate::caller_of(ctx)?;
        let select = audit_entry::Entity::find().filter(policy::access_log(caller));
        page(ctx, select, &PageArgs::new(first, after), AuditEntry).await
    }
}
