//! techmatch: technology-transfer matchmaking for Vietnam's provincial Departments of Science
//! and Technology.
//!
//! Layout, from the edge inwards (dependencies point down this list only):
//! - The command line is the `techmatch` binary's (the workspace root); measurement is the
//!   `techmatch-bench` crate's. Both use this library; it uses neither.
//! - [`server`]: [`server::Config`] and [`server::start`] (the state for `serve` and the tests
//!   alike), the router merging [`api`] (the JSON adapter) and [`web`] (the pages), which never
//!   import each other, with the load limits and the metrics layer; graceful shutdown.
//! - [`app`]: [`app::AppState`] and every use case as a function over typed inputs — the rights
//!   ([`app::Caller`]), listings, interest, deals, search answers, statistics, organisations,
//!   sign-up, saved searches — with one [`app::AppError`].
//! - [`search`], [`matching`]: requests and answers over the index; [`import`]: JSONL, CSV and
//!   XLSX files into listings; [`demo`]: the demo data and a corpus generated from it;
//!   [`accounts`], [`report`]: sign-in and API tokens; province and national reports; [`mail`]:
//!   delivery of the outbox by SMTP.
//! - Followers of the change log: [`indexer`] (the search index, crate `techmatch-index`),
//!   [`embed`] (sentence vectors), [`duplicates`], [`alerts`].
//! - [`store`]: the source of truth (sled, or PostgreSQL for several nodes) behind the
//!   [`store::Store`] trait and its siblings; [`domain`]: listings, provinces, fields of science,
//!   input checking, accounts, deals, organisations.

pub mod accounts;
pub mod alerts;
pub mod api;
pub mod app;
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
pub mod report;
pub mod search;
pub mod search_cache;
pub mod server;
pub mod store;
pub mod views;
pub mod web;
