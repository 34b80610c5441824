//! The audit log: who read which client's personal data, and every change.
//!
//! Reads are collected while a request runs — the field guards of client data record what they
//! let through — and written when it ends, one row per client, together with the reads of the
//! other requests ending at that moment ([`crate::audit_writer`]). The request answers only once
//! they are committed; if that write fails, the response is withheld: data that cannot be
//! accounted for is not handed out. Mutations write their entry in their own transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_graphql::Context;
use chrono::{SubsecRound, Utc};
use entities::audit_entry;
use sea_orm::{Condition, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};

/// The longest operation name the audit log keeps (a GraphQL name: no control characters).
const MAX_OPERATION_NAME: usize = 100;

/// What one request read, per client.
#[derive(Default)]
pub struct AuditTrail {
    // Reads not yet written, per client.
    reads: Mutex<BTreeMap<Uuid, BTreeSet<&'static str>>>,
    operation: Mutex<Option<String>>,
}

impl AuditTrail {
    /// Names the operation the request runs, unless it was named already.
    pub fn name_operation(&self, name: Option<String>) {
        // The caller's word, kept for ever in an append-only log: bounded.
        let name = name.map(|n| n.chars().take(MAX_OPERATION_NAME).collect::<String>());
        if let Ok(mut operation) = self.operation.lock() {
            if operation.is_none() {
                *operation = name;
            }
        }
    }

    /// Notes that the request read `category` of `client`.
    /// The operation's name, when it has one.
    pub fn operation(&self) -> Option<String> {
        self.operation.lock().ok().and_then(|o| o.clone())
    }

    pub fn read(&self, client: Uuid, category: &'static str) {
        if let Ok(mut reads) = self.reads.lock() {
            reads.entry(client).or_default().insert(category);
        }
    }

    /// Writes the request's reads, one row per client, and returns once they are durable: with
    /// the reads of other requests through `writer` (one commit for many requests), or at once
    /// when the operation holds the write turn already (a mutation that returned client data:
    /// the writer would wait for that very turn).
    pub async fn flush(
        &self,
        db: &impl ConnectionTrait,
        caller: &Caller,
        provenance: &crate::Provenance,
        turn: &crate::writes::WriteTurn,
        writer: &crate::audit_writer::AuditWriter,
    ) -> ApiResult<()> {
        let reads = self.reads.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
        if reads.is_empty() {
            return Ok(());
        }
        let operation = self.operation.lock().ok().and_then(|o| o.clone());
        let at = Utc::now().trunc_subsecs(6);
        let rows: Vec<_> = reads
            .into_iter()
            .map(|(client, categories)| audit_entry::ActiveModel {
                id: Set(Uuid::now_v7()),
                at: Set(at),
                user_id: Set(caller.user_id()),
                role: Set(caller.role),
                organisation_id: Set(caller.organisation_id()),
                action: Set("READ".into()),
                subject_type: Set("Client".into()),
                subject_id: Set(Some(client)),
                client_id: Set(Some(client)),
                categories: Set(Some(categories.into_iter().collect::<Vec<_>>().join(","))),
                operation_name: Set(operation.clone()),
                request_id: Set(Some(provenance.request_id.clone())),
                caller_request_id: Set(provenance.caller_request_id.clone()),
            })
            .collect();
        if turn.is_held().await {
            audit_entry::Entity::insert_many(rows).exec_without_returning(db).await?;
            return Ok(());
        }
        writer.write(rows).await
    }
}

/// Records a read of client data in the request's trail.
pub fn record_read(ctx: &Context<'_>, client: Uuid, category: &'static str) -> ApiResult<()> {
    ctx.data::<std::sync::Arc<AuditTrail>>()
        .map_err(|_| ApiError::internal("request without audit trail"))?
        .read(client, category);
    Ok(())
}

/// Writes the audit entry of a change, inside the change's transaction, under the operation's
/// request id.
pub async fn record_change(
    ctx: &Context<'_>,
    txn: &impl ConnectionTrait,
    action: &str,
    subject_type: &str,
    subject_id: Uuid,
    client: Option<Uuid>,
) -> ApiResult<()> {
    let caller = crate::caller_of(ctx)?;
    let provenance = ctx.data_opt::<crate::Provenance>();
    let operation = ctx.data_opt::<std::sync::Arc<AuditTrail>>().and_then(|trail| trail.operation());
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now().trunc_subsecs(6)),
        user_id: Set(caller.user_id()),
        role: Set(caller.role),
        organisation_id: Set(caller.organisation_id()),
        action: Set(action.to_owned()),
        subject_type: Set(subject_type.to_owned()),
        subject_id: Set(Some(subject_id)),
        client_id: Set(client),
        categories: Set(None),
        operation_name: Set(operation),
        request_id: Set(provenance.map(|p| p.request_id.clone())),
        caller_request_id: Set(provenance.and_then(|p| p.caller_request_id.clone())),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Adds the audit entry of a change made from the command line on the server (`welzijnshuis
/// user add`): no user signed in, so it is written as ADMIN's, named after the command.
pub async fn record_command(
    txn: &impl ConnectionTrait,
    command: &str,
    action: &str,
    subject_type: &str,
    subject_id: Uuid,
) -> ApiResult<()> {
    Ok(record_commands(txn, command, action, subject_type, &[subject_id]).await?)
}

/// The audit entries of one command's changes to many rows, in one statement.
pub async fn record_commands(
    txn: &impl ConnectionTrait,
    command: &str,
    action: &str,
    subject_type: &str,
    subject_ids: &[Uuid],
) -> Result<(), sea_orm::DbErr> {
    if subject_ids.is_empty() {
        return Ok(());
    }
    let at = Utc::now().trunc_subsecs(6);
    let rows = subject_ids.iter().map(|&subject| audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(at),
        user_id: Set(None),
        role: Set(entities::Role::Admin),
        organisation_id: Set(None),
        action: Set(action.to_owned()),
        subject_type: Set(subject_type.to_owned()),
        subject_id: Set(Some(subject)),
        client_id: Set(None),
        categories: Set(None),
        operation_name: Set(Some(command.to_owned())),
        request_id: Set(None),
        caller_request_id: Set(None),
    });
    audit_entry::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// The audit entry of a change to one client's data made on the server without a request (the
/// retention run, from the command line or the daily task): written as ADMIN's, named after the
/// command, about that client.
pub async fn record_command_about(
    txn: &impl ConnectionTrait,
    command: &str,
    action: &str,
    client: Uuid,
) -> Result<(), sea_orm::DbErr> {
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now().trunc_subsecs(6)),
        user_id: Set(None),
        role: Set(entities::Role::Admin),
        organisation_id: Set(None),
        action: Set(action.to_owned()),
        subject_type: Set("Client".to_owned()),
        subject_id: Set(Some(client)),
        client_id: Set(Some(client)),
        categories: Set(None),
        operation_name: Set(Some(command.to_owned())),
        request_id: Set(None),
        caller_request_id: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The audit rows about `client`: its own, and those written under the ids of the duplicates
/// merged into it (the log is append-only: a merge cannot rewrite them, so they are read
/// through `client_merges`). Nothing for an id that was itself merged away: its rows are read as
/// the kept client's.
pub fn of_client(client: Uuid) -> Condition {
    crate::policy::audit_entries_about(client)
}

/// Writes the audit entries of many changes of one kind (the appointments a closure cancelled),
/// inside the change's transaction, in multi-row `INSERT`s: one per `(subject, client)`.
pub async fn record_changes(
    ctx: &Context<'_>,
    txn: &impl ConnectionTrait,
    action: &str,
    subject_type: &str,
    subjects: &[(Uuid, Option<Uuid>)],
) -> ApiResult<()> {
    let caller = crate::caller_of(ctx)?;
    let provenance = ctx.data_opt::<crate::Provenance>();
    let operation = ctx.data_opt::<std::sync::Arc<AuditTrail>>().and_then(|trail| trail.operation());
    let at = Utc::now().trunc_subsecs(6);
    // 13 values a row: 500 rows stay far below either database's parameter limit.
    for batch in subjects.chunks(500) {
        let rows = batch.iter().map(|&(subject, client)| audit_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(at),
            user_id: Set(caller.user_id()),
            role: Set(caller.role),
            organisation_id: Set(caller.organisation_id()),
            action: Set(action.to_owned()),
            subject_type: Set(subject_type.to_owned()),
            subject_id: Set(Some(subject)),
            client_id: Set(client),
            categories: Set(None),
            operation_name: Set(operation.clone()),
            request_id: Set(provenance.map(|p| p.request_id.clone())),
            caller_request_id: Set(provenance.and_then(|p| p.caller_request_id.clone())),
        });
        audit_entry::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}
