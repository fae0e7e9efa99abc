//! Prints speed and memory figures for a full audit (all five targets of
//! the detected benchmark) of the bundled sample node, and how the cost grows
//! with the number of processes on a node (synthetic snapshots of 1,000 to
//! 10,000 processes). Run: `cargo run --release --example bench`.

use clap::Parser;
use kubecis::cli::{audit, Cli};
use std::path::Path;
use std::time::{Duration, Instant};

const SAMPLE: &str = "tests/fixtures/nodes/kubeadm-sample";

fn time_audit(snapshot: &Path, runs: usize) -> (Duration, Duration) {
    let cli = Cli::parse_from(["kubecis", "--snapshot", snapshot.to_str().unwrap(), "run"]);
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    for _ in 0..runs {
        let start = Instant::now();
        let report = audit(&cli.global, Some(&[]), false).expect("audit runs");
        let took = start.elapsed();
        assert!(report.totals().pass > 0);
        best = best.min(took);
        total += took;
    }
    (best, total / runs as u32)
}

/// A copy of the sample node with `n` extra processes that are not
/// Kubernetes components (what a busy node looks like to the scan).
fn synthetic(n: usize, dir: &Path) {
    let sample = Path::new(SAMPLE);
    let text = std::fs::read_to_string(sample.join("node.yaml")).unwrap();
    let mut out = text.replace("processes:\n", "processes:\n__EXTRA__");
    let mut extra = String::new();
    for i in 0..n {
        extra.push_str(&format!(
            "- pid: {}\n  cmdline: [/usr/bin/worker-{i}, --listen=127.0.0.1:{}, --config=/etc/worker/{i}.yaml, --verbose]\n",
            20_000 + i,
            10_000 + i % 50_000
        ));
    }
    out = out.replace("__EXTRA__", &extra);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("node.yaml"), out).unwrap();
    let _ = std::os::unix::fs::symlink(
        std::fs::canonicalize(sample.join("root")).unwrap(),
        dir.join("root"),
    );
}

/// Wall time and peak RSS (KiB) of one run of the release binary, from
/// `wait4`, which reports that child's own usage.
fn child_peak_rss_kib(args: &[&str]) -> Option<(Duration, i64)> {
    let bin = Path::new("target/release/kubecis");
    if !bin.exists() {
        return None;
    }
    let start = Instant::now();
    let child = std::process::Command::new(bin)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { nix::libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let took = start.elapsed();
    (pid > 0).then_some((took, usage.ru_maxrss))
}

fn main() {
    println!("kubecis benchmark (figures from this machine)");
    let (best, mean) = time_audit(Path::new(SAMPLE), 50);
    println!(
        "full audit of the sample node, in process (cfg load + detection + 5 targets): best {:.2} ms, mean {:.2} ms over 50 runs",
        best.as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3
    );
    let mut sys = sysinfo::System::new();
    let me = sysinfo::get_current_pid().expect("own pid");
    sys.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[me]), true);
    if let Some(p) = sys.process(me) {
        println!(
            "resident memory of this benchmark process afterwards: {:.1} MB",
            p.memory() as f64 / 1e6
        );
    }
    match child_peak_rss_kib(&["--snapshot", SAMPLE, "--json"]) {
        Some((took, rss)) => println!(
            "release binary, whole process (`kubecis --snapshot {SAMPLE} --json`): {:.2} ms wall, peak RSS {:.1} MB",
            took.as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        ),
        None => println!("release binary not built (cargo build --release) — process figures skipped"),
    }
    let tmp = tempfile::tempdir().unwrap();
    println!("scaling with the number of processes (best of 5):");
    let mut prev: Option<(usize, f64)> = None;
    for n in [1_000usize, 2_500, 5_000, 10_000] {
        let dir = tmp.path().join(format!("n{n}"));
        synthetic(n, &dir);
        let (best, _) = time_audit(&dir, 5);
        let ms = best.as_secs_f64() * 1e3;
        let note = match prev {
            Some((pn, pms)) => format!(
                " ({:.2}x the time for {:.1}x the processes)",
                ms / pms,
                n as f64 / pn as f64
            ),
            None => String::new(),
        };
        println!("  {n:>6} processes: {ms:.2} ms{note}");
        prev = Some((n, ms));
    }
}
