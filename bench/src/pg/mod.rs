//! PostgreSQL support: a throw-away cluster for benchmarks and tests, and the full-text search
//! configuration a department's IT team would set up, used to compare against our own search.

pub mod cluster;
pub mod fts;

pub use cluster::{ClusterError, TempCluster};
