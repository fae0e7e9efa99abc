//! Facts from the node: processes, files, configs. The only stage that
//! touches the filesystem or `/proc`, always through the `Host` trait.

pub mod accounts;
pub mod cmdline;
pub mod evidence;
pub mod host;
pub mod live;
pub mod node;
pub mod node_text;
pub mod rooted;
pub mod snapshot;

pub use evidence::{Evidence, EvidenceSource};
pub use host::{FileKind, FileStat, Host, ReadError};
pub use live::LiveHost;
pub use node::{FileSet, Lookup, NodeFacts, Presence};
pub use snapshot::SnapshotHost;
