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
pub mod shell;
mod shell_facts;
pub mod snapshot;

pub use evidence::{Evidence, EvidenceSource};
pub use host::{FileKind, FileStat, Host, ReadError};
pub use live::LiveHost;
pub use node::{FileSet, Lookup, NodeFacts, Presence};
pub use shell::{LiveShell, RefusingShell, ShellError, ShellRun, ShellRunner, ShellStatus};
pub use snapshot::SnapshotHost;
