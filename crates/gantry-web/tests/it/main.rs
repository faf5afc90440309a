//! Integration tests of the HTTP layer: the API, the pages, the authorisation sweep and bad
//! input, all over a real database (SQLite, or PostgreSQL with `GANTRY_TEST_DATABASE_URL`).

mod accounts;
mod api;
mod artifacts;
mod authorise_once;
mod background;
mod bad_input;
mod ci;
mod code;
mod file_writes;
mod hidden_variables;
mod keys;
mod listing_visibility;
mod parameters;
mod pipeline_rights;
mod protected_tags;
mod repository;
mod route_requirements;
mod schedules;
mod support;
mod sweep;
mod topics;
mod ui;
