//! One integration-test binary for the whole service. Every test that touches a database gets a
//! fresh one: SQLite by default, PostgreSQL with
//! `WELZIJNSHUIS_TEST_DATABASE_URL=postgres://user@host/postgres`.

mod helpers;

mod access;
mod administration;
mod audit;
mod auth;
mod client_role;
mod daily_hours;
mod daily_work;
mod dashboard;
mod demo;
mod documents;
mod edges;
mod export;
mod faults;
mod fuzz;
mod gate;
mod generative;
mod graphql_over_http;
mod hsds;
mod hsds_api;
mod hsds_params;
mod hsds_standard;
mod http;
mod limits;
mod matrix;
mod national_number;
mod office_hours;
mod oidc;
mod pagination;
mod referrals;
mod retention;
mod schema_sdl;
mod social_map;
mod statements;
mod subscriptions;
mod webhooks;
