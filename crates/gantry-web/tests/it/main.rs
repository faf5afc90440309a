//! Integration tests of the HTTP layer: the API, the pages, the authorisation sweep and bad
//! input, all over a real database (SQLite, or PostgreSQL with `GANTRY_TEST_DATABASE_URL`).

mod access_tokens;
mod accounts;
mod api;
mod application_settings;
mod artifacts;
mod authorise_once;
mod avatars;
mod background;
mod bad_input;
mod ci;
mod ci_lint;
mod code;
mod deploy;
mod file_writes;
mod group_sharing;
mod groups;
mod hidden_variables;
mod job_token_scope;
mod keys;
mod languages;
mod listing_visibility;
mod parameters;
mod pipeline_rights;
mod protected_tags;
mod repository;
mod repository_ops;
mod route_requirements;
mod schedules;
mod support;
mod sweep;
mod templates;
mod topics;
mod ui;
mod user_accounts;
