//! The command-line side: a raw `/proc/<pid>/cmdline` split into
//! arguments, the flag parser over them, and the lookups a check makes
//! (`value`, `count`, `k=v` list entries). Also checks that splitting keeps
//! every byte and that the last occurrence of a flag wins.
//!
//! Input: the raw bytes of a cmdline file (NUL-separated arguments).

#![no_main]

use kubecis::collect::cmdline::{map_entry, Flags};
use kubecis::collect::live::{cmdline_args, split_cmdline};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

/// Flags the built-in checks ask about, among others.
const ASKED: [&str; 6] = [
    "--config",
    "--kubeconfig",
    "--feature-gates",
    "--anonymous-auth",
    "-",
    "--",
];

fuzz_target!(|data: &[u8]| {
    let args = cmdline_args(data);
    let mut rejoined = args.join(&0u8);
    if !args.is_empty() && data.ends_with(b"\0") {
        rejoined.push(0);
    }
    assert_eq!(rejoined, data, "splitting lost or added bytes");
    let argv = split_cmdline(data);
    assert_eq!(argv.len(), args.len());

    let flags = Flags::parse(argv.get(1..).unwrap_or_default());
    // Each distinct name once, as a check asks for a handful of flags.
    let names: BTreeSet<&str> = argv
        .iter()
        .filter_map(|a| a.split('=').next())
        .take(64)
        .chain(ASKED)
        .collect();
    for name in names {
        let count = flags.count(name);
        let value = flags.value(name);
        assert_eq!(
            count == 0,
            value.is_none(),
            "{name}: count and value disagree"
        );
        if let Some(v) = value {
            for key in v.split([',', '=']).take(8) {
                let _ = map_entry(&v, key);
            }
        }
    }
});
