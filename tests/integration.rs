//! Integration tests: a real sled store on disk, a real index, the real binary, and the HTTP
//! application on loopback or in process. One binary, a module per feature.

#![allow(clippy::unwrap_used)]

mod common;

mod alerts;
mod api;
mod backup;
mod bench;
mod browser;
mod catch_up;
mod changes;
mod cli;
mod cli_user;
mod cluster_bench;
mod confidential;
mod crash;
mod deals;
mod demo;
mod disk_full;
mod duplicates;
mod embedder_slow;
mod exchange_walk;
mod exports;
mod failover;
mod freshness;
mod fuzz_replay;
mod import;
mod mail;
mod matching;
mod metrics;
mod nasty;
mod orgs;
mod postgres;
mod proxy;
mod read_only;
mod reports;
mod rights;
mod scale_out;
mod search;
mod security;
mod semantic;
mod sign_in;
mod sources;
mod statistics;
mod store_conformance;
mod web;
mod webdriver;
mod world;
