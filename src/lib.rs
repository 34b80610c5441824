//! welzijnshuis: the GraphQL service of a welfare house and its partner network.
//!
//! `main` is a thin wrapper around [`cli::run`]; tests use [`startup::Application`] directly.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod gate;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod rate_limit;
pub mod retention;
pub mod socialmap;
pub mod startup;
pub mod telemetry;
pub mod webhooks;
