//! Measurement of techmatch: the figures of `techmatch bench` (one node, against plain tantivy
//! and PostgreSQL full-text search), `techmatch bench-cluster` (nodes on one PostgreSQL store
//! behind haproxy) and the throw-away PostgreSQL cluster both use, which the tests use too.
//!
//! It uses the service library (`techmatch`) as the binary does; nothing in the service uses it.

pub mod bench;
pub mod cluster_bench;
pub mod pg;
