//! The cfg: its raw YAML mirror, the validated model, and the loader that
//! turns one into the other. Knows nothing of the host.

pub mod kube_bench;
pub mod load;
pub mod model;
mod raw;
pub mod shell;

pub use load::{load_catalog, load_catalog_for, CfgError, CfgErrors, CfgSource};
pub use model::*;
