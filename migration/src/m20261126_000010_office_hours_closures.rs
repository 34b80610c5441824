//! Partners keep their own office hours: closures of days or ranges (a holiday, a training day),
//! the appointments a closure cancelled, and the notices that tell a referral's sender about it.
//!
//! A notice is kept apart from `referral_events`: those are the referral's status history, bound
//! by its state machine (five at most) and counted by the dashboards; an appointment cancelled by
//! a closure changes no status, and a referral may see any number of them.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000010_office_hours_closures"
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
CREATE TABLE office_hours_closures (
    id UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    reason TEXT NOT NULL CHECK (length(reason) > 0),
    cancelled_appointments INTEGER NOT NULL CHECK (cancelled_appointments >= 0),
    created_by UUID REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    lifted_at TIMESTAMPTZ,
    lifted_by UUID REFERENCES users (id),
    CHECK (starts_on <= ends_on),
    CHECK (lifted_at IS NULL OR lifted_at >= created_at)
);
CREATE INDEX office_hours_closures_organisation ON office_hours_closures (organisation_id, ends_on, starts_on);
CREATE INDEX office_hours_closures_days ON office_hours_closures (ends_on, starts_on);

CREATE TABLE office_hours_closure_appointments (
    closure_id UUID NOT NULL REFERENCES office_hours_closures (id) ON DELETE CASCADE,
    appointment_id UUID NOT NULL UNIQUE REFERENCES appointments (id),
    PRIMARY KEY (closure_id, appointment_id)
);

CREATE TABLE referral_notices (
    id UUID PRIMARY KEY,
    referral_id UUID NOT NULL REFERENCES referrals (id),
    kind TEXT NOT NULL CHECK (kind IN ('APPOINTMENT_CANCELLED')),
    referral_status TEXT NOT NULL CHECK (referral_status IN ('REQUESTED','RECEIVED','ACCEPTED','REJECTED','IN_PROGRESS','COMPLETED','CANCELLED')),
    appointment_id UUID REFERENCES appointments (id),
    closure_id UUID REFERENCES office_hours_closures (id),
    note TEXT NOT NULL CHECK (length(note) > 0),
    actor_user_id UUID REFERENCES users (id),
    actor_organisation_id UUID REFERENCES organisations (id),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX referral_notices_referral ON referral_notices (referral_id, at, id)
"#;

const DOWN: &str = r#"
DROP TABLE referral_notices;
DROP TABLE office_hours_closure_appointments;
DROP TABLE office_hours_closures
"#;
