//! The whole network's data model: the social map, people, clients and their trajectories.
//!
//! Conventions: UUID keys (v7, so they sort by creation), UTC timestamps, enum values stored as
//! their GraphQL names and checked, local weekly times as minutes after midnight.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_network"
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
CREATE TABLE organisations (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('WELFARE_HOUSE','CAW','PENSION_SERVICE','DYZO','HOUSING','HEALTH','OTHER')),
    is_network_partner BOOLEAN NOT NULL DEFAULT FALSE,
    description TEXT,
    url TEXT,
    email TEXT,
    phone TEXT,
    hsds_id TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX organisations_name ON organisations (name, id);
CREATE INDEX organisations_kind ON organisations (kind);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('PARTNER','INTAKE','CASE_WORKER','ANALYST','ADMIN')),
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE locations (
    id UUID PRIMARY KEY,
    organisation_id UUID REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT,
    street TEXT,
    postcode TEXT NOT NULL,
    municipality TEXT NOT NULL,
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    confidential BOOLEAN NOT NULL DEFAULT FALSE,
    hsds_id TEXT UNIQUE
);
CREATE INDEX locations_organisation ON locations (organisation_id);
CREATE INDEX locations_postcode ON locations (postcode);
CREATE INDEX locations_municipality ON locations (lower(municipality));

CREATE TABLE services (
    id UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    url TEXT,
    email TEXT,
    phone TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive','defunct','temporarily closed')),
    eligibility TEXT,
    fees TEXT,
    application_process TEXT,
    assured_date DATE,
    alert TEXT,
    hsds_id TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX services_organisation ON services (organisation_id, name, id);
CREATE INDEX services_name ON services (name, id);

CREATE TABLE service_life_domains (
    service_id UUID NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    life_domain TEXT NOT NULL CHECK (life_domain IN ('HOUSING','FINANCES','FAMILY_AND_FRIENDS','CHILDREN','WORK','MOBILITY','PHYSICAL_HEALTH','MENTAL_HEALTH','ADMINISTRATION_AND_RIGHTS','PARTICIPATION')),
    PRIMARY KEY (service_id, life_domain)
);
CREATE INDEX service_life_domains_domain ON service_life_domains (life_domain, service_id);

CREATE TABLE service_languages (
    service_id UUID NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    language TEXT NOT NULL CHECK (language = lower(language)),
    PRIMARY KEY (service_id, language)
);
CREATE INDEX service_languages_language ON service_languages (language, service_id);

CREATE TABLE service_at_locations (
    id UUID PRIMARY KEY,
    service_id UUID NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id UUID NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    UNIQUE (service_id, location_id)
);
CREATE INDEX service_at_locations_location ON service_at_locations (location_id, service_id);

CREATE TABLE schedules (
    id UUID PRIMARY KEY,
    service_id UUID NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id UUID REFERENCES locations (id) ON DELETE CASCADE,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens_minute INTEGER NOT NULL CHECK (opens_minute >= 0),
    closes_minute INTEGER NOT NULL CHECK (closes_minute <= 1440),
    valid_from DATE,
    valid_to DATE,
    description TEXT,
    CHECK (opens_minute < closes_minute),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX schedules_service ON schedules (service_id, weekday);
CREATE INDEX schedules_weekday ON schedules (weekday, opens_minute, closes_minute);

CREATE TABLE office_hours (
    id UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    location_id UUID NOT NULL REFERENCES locations (id),
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_minute INTEGER NOT NULL CHECK (starts_minute >= 0),
    ends_minute INTEGER NOT NULL CHECK (ends_minute <= 1440),
    slot_minutes INTEGER NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
    valid_from DATE,
    valid_to DATE,
    CHECK (starts_minute < ends_minute),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX office_hours_organisation ON office_hours (organisation_id, weekday);

CREATE TABLE clients (
    id UUID PRIMARY KEY,
    given_name TEXT NOT NULL CHECK (length(given_name) > 0),
    family_name TEXT NOT NULL CHECK (length(family_name) > 0),
    date_of_birth DATE,
    national_register_number TEXT UNIQUE CHECK (length(national_register_number) = 11),
    street TEXT,
    postcode TEXT,
    municipality TEXT,
    phone TEXT,
    email TEXT,
    preferred_language TEXT,
    created_by UUID REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX clients_name ON clients (family_name, given_name, id);
CREATE INDEX clients_birth ON clients (date_of_birth);

CREATE TABLE help_requests (
    id UUID PRIMARY KEY,
    client_id UUID NOT NULL REFERENCES clients (id),
    summary TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('DESK','PHONE','EMAIL','OUTREACH','PARTNER_OFFICE_HOUR')),
    status TEXT NOT NULL CHECK (status IN ('OPEN','CLOSED')),
    opened_by UUID REFERENCES users (id),
    opened_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ,
    CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL))
);
CREATE INDEX help_requests_client ON help_requests (client_id, opened_at);
CREATE INDEX help_requests_opened ON help_requests (opened_at);

CREATE TABLE help_request_life_domains (
    help_request_id UUID NOT NULL REFERENCES help_requests (id) ON DELETE CASCADE,
    life_domain TEXT NOT NULL CHECK (life_domain IN ('HOUSING','FINANCES','FAMILY_AND_FRIENDS','CHILDREN','WORK','MOBILITY','PHYSICAL_HEALTH','MENTAL_HEALTH','ADMINISTRATION_AND_RIGHTS','PARTICIPATION')),
    PRIMARY KEY (help_request_id, life_domain)
);
CREATE INDEX help_request_life_domains_domain ON help_request_life_domains (life_domain);

CREATE TABLE case_notes (
    id UUID PRIMARY KEY,
    help_request_id UUID NOT NULL REFERENCES help_requests (id),
    author_id UUID NOT NULL REFERENCES users (id),
    body TEXT NOT NULL CHECK (length(body) > 0),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_notes_help_request ON case_notes (help_request_id, created_at);

CREATE TABLE consents (
    id UUID PRIMARY KEY,
    client_id UUID NOT NULL REFERENCES clients (id),
    recipient_id UUID NOT NULL REFERENCES organisations (id),
    scope_identity BOOLEAN NOT NULL,
    scope_contact BOOLEAN NOT NULL,
    scope_national_number BOOLEAN NOT NULL,
    scope_situation BOOLEAN NOT NULL,
    purpose TEXT NOT NULL,
    recorded_by UUID REFERENCES users (id),
    given_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_by UUID REFERENCES users (id),
    CHECK (revoked_at IS NULL OR revoked_at >= given_at)
);
CREATE INDEX consents_client ON consents (client_id, recipient_id);
CREATE INDEX consents_recipient ON consents (recipient_id, client_id);

CREATE TABLE referrals (
    id UUID PRIMARY KEY,
    client_id UUID NOT NULL REFERENCES clients (id),
    help_request_id UUID REFERENCES help_requests (id),
    sender_id UUID NOT NULL REFERENCES organisations (id),
    recipient_id UUID NOT NULL REFERENCES organisations (id),
    service_id UUID REFERENCES services (id),
    life_domain TEXT NOT NULL CHECK (life_domain IN ('HOUSING','FINANCES','FAMILY_AND_FRIENDS','CHILDREN','WORK','MOBILITY','PHYSICAL_HEALTH','MENTAL_HEALTH','ADMINISTRATION_AND_RIGHTS','PARTICIPATION')),
    reason TEXT NOT NULL CHECK (length(reason) > 0),
    status TEXT NOT NULL CHECK (status IN ('REQUESTED','RECEIVED','ACCEPTED','REJECTED','IN_PROGRESS','COMPLETED','CANCELLED')),
    version INTEGER NOT NULL CHECK (version >= 1),
    outcome_note TEXT,
    rejection_reason TEXT CHECK (rejection_reason IN ('NO_CAPACITY','NOT_ELIGIBLE','CLIENT_UNREACHABLE','CLIENT_DECLINED','OTHER')),
    created_by UUID REFERENCES users (id),
    idempotency_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK (sender_id <> recipient_id),
    CHECK ((status = 'REJECTED') = (rejection_reason IS NOT NULL)),
    UNIQUE (created_by, idempotency_key)
);
CREATE INDEX referrals_created ON referrals (created_at, id);
CREATE INDEX referrals_recipient ON referrals (recipient_id, created_at);
CREATE INDEX referrals_sender ON referrals (sender_id, created_at);
CREATE INDEX referrals_client ON referrals (client_id, created_at);
CREATE INDEX referrals_status ON referrals (status, updated_at);
CREATE INDEX referrals_life_domain ON referrals (life_domain, created_at);

CREATE TABLE referral_events (
    id UUID PRIMARY KEY,
    referral_id UUID NOT NULL REFERENCES referrals (id),
    from_status TEXT CHECK (from_status IN ('REQUESTED','RECEIVED','ACCEPTED','REJECTED','IN_PROGRESS','COMPLETED','CANCELLED')),
    to_status TEXT NOT NULL CHECK (to_status IN ('REQUESTED','RECEIVED','ACCEPTED','REJECTED','IN_PROGRESS','COMPLETED','CANCELLED')),
    note TEXT,
    rejection_reason TEXT CHECK (rejection_reason IN ('NO_CAPACITY','NOT_ELIGIBLE','CLIENT_UNREACHABLE','CLIENT_DECLINED','OTHER')),
    actor_user_id UUID REFERENCES users (id),
    actor_organisation_id UUID REFERENCES organisations (id),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, at, id);
CREATE INDEX referral_events_at ON referral_events (at);

CREATE TABLE appointments (
    id UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    client_id UUID NOT NULL REFERENCES clients (id),
    referral_id UUID REFERENCES referrals (id),
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    active_slot TIMESTAMPTZ,
    booked_by UUID REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ,
    CHECK (starts_at < ends_at),
    CHECK ((cancelled_at IS NULL) = (active_slot IS NOT NULL)),
    CONSTRAINT appointments_slot_taken UNIQUE (organisation_id, active_slot)
);
CREATE INDEX appointments_client ON appointments (client_id);
CREATE INDEX appointments_referral ON appointments (referral_id);
CREATE INDEX appointments_starts ON appointments (organisation_id, starts_at);

CREATE TABLE audit_log (
    id UUID PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    user_id UUID,
    role TEXT NOT NULL,
    organisation_id UUID,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id UUID,
    client_id UUID,
    categories TEXT,
    operation_name TEXT,
    request_id TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_client ON audit_log (client_id, at);
CREATE INDEX audit_log_user ON audit_log (user_id, at)
"#;

const DOWN: &str = r#"
DROP TABLE audit_log;
DROP TABLE appointments;
DROP TABLE referral_events;
DROP TABLE referrals;
DROP TABLE consents;
DROP TABLE case_notes;
DROP TABLE help_request_life_domains;
DROP TABLE help_requests;
DROP TABLE clients;
DROP TABLE office_hours;
DROP TABLE schedules;
DROP TABLE service_at_locations;
DROP TABLE service_languages;
DROP TABLE service_life_domains;
DROP TABLE services;
DROP TABLE locations;
DROP TABLE users;
DROP TABLE organisations
"#;
