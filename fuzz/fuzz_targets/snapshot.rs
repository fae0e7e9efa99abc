//! The snapshot reader: `node.yaml` text (host name, processes with their
//! command lines and environments, file modes and owners) parsed and
//! validated by `SnapshotHost`, over the bundled sample node's `root/`;
//! then a full audit of the node it describes.
//!
//! Input: the text of a `node.yaml`.

#![no_main]

use kubecis::collect::{Host, SnapshotHost};
use kubecis_fuzz::{audit, embedded_catalog};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/nodes/kubeadm-sample"
);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(host) = SnapshotHost::with_node_text(Path::new(SAMPLE), text) else {
        return;
    };
    let _ = host.hostname();
    let _ = host.binary_version("/usr/bin/kubelet");
    let _ = host.journal_lines(&["k3s".to_string()], "Running kubelet");
    if let Ok(list) = host.processes() {
        for p in list.processes.iter().take(16) {
            let _ = host.environ(p.pid);
        }
    }
    let catalog = embedded_catalog();
    if let Some(bench) = catalog.benchmark("cis-1.12") {
        audit(catalog, bench, &host);
    }
});
