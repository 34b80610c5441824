//! Webhooks: partners' endpoints, the outbox of deliveries written in the same transaction as
//! the change that caused them, and every attempt to deliver one.
//!
//! A delivery's id is the `webhook-id` header: the same on every attempt, so that a receiver
//! deduplicates by it. A delivery is claimed by one worker for a lease (`claimed_until`); a lease
//! that runs out (the process was killed mid-delivery) makes it due again, with the same id.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_webhooks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}

const UP: &str = r#"
CREATE TABLE webhooks (
    id UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    url TEXT NOT NULL CHECK (length(url) > 0),
    events TEXT NOT NULL CHECK (length(events) > 0),
    secret TEXT NOT NULL CHECK (length(secret) > 0),
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMPTZ,
    active BOOLEAN NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    disabled_reason TEXT,
    created_by UUID REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhooks_organisation ON webhooks (organisation_id, active);

CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY,
    webhook_id UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL CHECK (event_type IN ('REFERRAL_CREATED','REFERRAL_STATUS_CHANGED','APPOINTMENT_BOOKED','APPOINTMENT_CANCELLED')),
    payload TEXT NOT NULL,
    referral_id UUID,
    status TEXT NOT NULL CHECK (status IN ('PENDING','DELIVERED','FAILED')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until TIMESTAMPTZ,
    last_status_code INTEGER,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'DELIVERED') = (delivered_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX webhook_deliveries_referral ON webhook_deliveries (webhook_id, referral_id, status);

CREATE TABLE webhook_attempts (
    id UUID PRIMARY KEY,
    delivery_id UUID NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL CHECK (latency_ms >= 0),
    error TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at)
"#;

const DOWN: &str = "
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks
";
