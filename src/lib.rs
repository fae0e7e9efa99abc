//! kubecis: audits a Kubernetes node against the CIS Kubernetes Benchmark.
//!
//! The pipeline, one module per stage: `cli` (arguments) → `benchmark` (cfg
//! model and loader) → `detect` (version, role) → `collect` (facts from the
//! host) → `evaluate` (tests and verdicts) → `report` (text, JSON).

pub mod benchmark;
pub mod cli;
pub mod collect;
pub mod detect;
pub mod evaluate;
pub mod go_text;
pub mod jsonpath;
pub mod report;
pub mod yaml;
