//! techmatch: technology-transfer matchmaking for Vietnam's provincial Departments of Science
//! and Technology.
//!
//! Layout, from the edge inwards:
//! - [`cli`]: one module per command; `main.rs` only calls [`cli::main`].
//! - [`api`] and [`server`]: the HTTP API (axum) and the running service; [`web`]: the
//!   server-rendered pages for browsers, merged into the same application.
//! - [`search`]: search parameters and the JSON answer shared by API and CLI.
//! - [`import`], [`demo`]: reading JSONL, CSV and XLSX files into listings.
//! - [`indexer`]: keeps the search index (crate `techmatch-index`) following the store;
//!   [`embed`]: sentence vectors, following the store the same way, for semantic matching.
//! - [`app`]: the application's use cases (sign-up, password reset, the mail outbox), called by
//!   the API, the pages and the command line alike; [`mail`]: delivery of the outbox by SMTP.
//! - [`accounts`], [`report`]: sign-in and API tokens; province and national reports.
//! - [`store`]: the source of truth (sled) behind the [`store::Store`] trait (listings),
//!   [`store::AccountStore`] and [`store::DealStore`].
//! - [`domain`]: listings, provinces, fields of science, input checking, accounts and deals.
//! - [`pg`]: a throw-away PostgreSQL cluster and the full-text search we compare against
//!   (`bench --postgres`, `eval --engine postgres`); [`cluster_bench`]: several nodes on it
//!   behind haproxy under load (`bench-cluster`).

pub mod accounts;
pub mod alerts;
pub mod api;
pub mod app;
pub mod bench;
pub mod cli;
pub mod cluster_bench;
pub mod config;
pub mod data_dir;
pub mod demo;
pub mod domain;
pub mod duplicates;
pub mod embed;
pub mod import;
pub mod indexer;
pub mod mail;
pub mod matching;
pub mod metrics;
pub mod pg;
pub mod report;
pub mod search;
pub mod search_cache;
pub mod server;
pub mod store;
pub mod web;
