//! The sea-orm entities of welzijnshuis: one module per table, and the shared enums.
//!
//! Relations are not declared on the entities: every join the API needs goes through a
//! per-request DataLoader or a scoped subquery in `resolvers`, so the access policy sees it.

pub mod enums;

pub mod appointment;
pub mod audit_entry;
pub mod case_note;
pub mod client;
pub mod client_merge;
pub mod consent;
pub mod help_request;
pub mod help_request_life_domain;
pub mod location;
pub mod office_hour;
pub mod office_hours_closure;
pub mod office_hours_closure_appointment;
pub mod organisation;
pub mod referral;
pub mod referral_count;
pub mod referral_event;
pub mod referral_notice;
pub mod schedule;
pub mod service;
pub mod service_at_location;
pub mod service_language;
pub mod service_life_domain;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;

pub use enums::*;
