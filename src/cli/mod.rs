//! Command-line arguments (clap) and the pipeline they drive: load the cfg,
//! open the host, detect the benchmark and targets, evaluate, report. Turns
//! every failure into a message and an exit status; never panics on input.

use crate::benchmark::{load_catalog, CfgForm, CfgSource};
use crate::collect::{Host, LiveHost, NodeFacts, SnapshotHost};
use crate::detect::{self, Requested, TargetChoice};
use crate::evaluate::{self, Selection};
use crate::report::{self, RunReport, TextOptions};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Exit status for bad arguments, an invalid cfg, or a node that cannot be
/// audited at all.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "kubecis",
    about = "Audit a Kubernetes node against the CIS Kubernetes Benchmark",
    long_about = "Audit a Kubernetes node against the CIS Kubernetes Benchmark.\n\n\
With no subcommand, kubecis works out the node's role and runs the targets that fit it \
(master and controlplane where the API server, scheduler and controller manager run, etcd \
where etcd runs, node where a kubelet runs, policies always), and says on stderr what it \
chose and why.",
    disable_version_flag = true,
    after_help = "Exit status: 0 after a completed run (or --exit-code when a check FAILed); 2 for bad arguments, an invalid cfg, or a node that cannot be audited."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the named targets (all targets of the benchmark when omitted).
    Run {
        /// Comma-separated targets: master, controlplane, etcd, node, policies.
        #[arg(long, value_delimiter = ',')]
        targets: Vec<String>,
    },
    /// Print kubecis's own version.
    Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Benchmark to run (e.g. cis-1.12); skips version detection.
    #[arg(long, global = true, conflicts_with = "version")]
    pub benchmark: Option<String>,
    /// Kubernetes version (major.minor) whose benchmark to run; skips detection.
    #[arg(long, global = true)]
    pub version: Option<String>,
    /// cfg directory to use instead of the built-in one.
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Where the node's filesystem is mounted (e.g. /host in a pod).
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub host_root: PathBuf,
    /// Audit a captured node snapshot folder instead of the live node.
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "host_root")]
    pub snapshot: Option<PathBuf>,
    /// Only these checks (comma-separated IDs).
    #[arg(long, global = true, value_delimiter = ',')]
    pub check: Vec<String>,
    /// Only these groups (comma-separated IDs).
    #[arg(long, global = true, value_delimiter = ',')]
    pub group: Vec<String>,
    /// Report these checks or groups INFO without running them.
    #[arg(long, global = true, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Only scored checks.
    #[arg(long, global = true)]
    pub scored: bool,
    /// Only unscored checks.
    #[arg(long, global = true)]
    pub unscored: bool,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, global = true, value_name = "FILE")]
    pub outputfile: Option<PathBuf>,
    /// Leave out the remediations section.
    #[arg(long, global = true)]
    pub noremediations: bool,
    /// Leave out the per-target summaries.
    #[arg(long, global = true)]
    pub nosummary: bool,
    /// Leave out the total summary.
    #[arg(long, global = true)]
    pub nototals: bool,
    /// Show the reason and evidence under each FAIL and WARN.
    #[arg(long, global = true)]
    pub include_test_output: bool,
    /// Exit status to use when any check FAILs.
    #[arg(long, global = true, value_name = "N", default_value_t = 0)]
    pub exit_code: u8,
    /// Colour the text report.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// An error that ends the run with exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow!(UsageError(msg.into()))
}

fn open_host(g: &GlobalArgs) -> Result<Box<dyn Host>> {
    if let Some(dir) = &g.snapshot {
        return Ok(Box::new(SnapshotHost::open(dir).map_err(usage)?));
    }
    Ok(Box::new(LiveHost::new(&g.host_root).map_err(usage)?))
}

fn use_color(g: &GlobalArgs) -> bool {
    match g.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            g.outputfile.is_none()
                && !g.json
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Write the report: atomically to --outputfile, else to stdout, where a
/// closed pipe (`kubecis | head`) ends the run quietly.
fn emit(g: &GlobalArgs, text: &str) -> Result<()> {
    match &g.outputfile {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(e).context("writing the report to stdout"),
            }
        }
    }
}

/// Temp file in the target's directory, then rename: readers see the old
/// file or the whole new one, never half of it.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).with_context(|| {
        format!(
            "creating a temporary file in {} for --outputfile",
            dir.display()
        )
    })?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// Run the command line; returns the exit status.
pub fn run(cli: Cli) -> Result<u8> {
    let g = &cli.global;
    let targets_requested = match &cli.command {
        Some(Command::Version) => {
            emit(g, &format!("kubecis {}\n", env!("CARGO_PKG_VERSION")))?;
            return Ok(0);
        }
        Some(Command::Run { targets }) => Some(targets.clone()),
        None => None,
    };
    let report = audit(g, targets_requested.as_deref(), true)?;
    let text = if g.json {
        let mut s =
            serde_json::to_string(&report::json::render(&report)).context("encoding JSON")?;
        s.push('\n');
        s
    } else {
        let opts = TextOptions {
            color: use_color(g),
            no_remediations: g.noremediations,
            no_summary: g.nosummary,
            no_totals: g.nototals,
            include_test_output: g.include_test_output,
        };
        colored::control::set_override(opts.color);
        report::text::render(&report, &opts)
    };
    emit(g, &text)?;
    let failed = report.totals().fail > 0;
    Ok(if failed { g.exit_code } else { 0 })
}

/// The whole audit without printing the report: load and validate the cfg,
/// open the host, detect, evaluate. `targets` is `None` in auto mode.
/// `explain` prints the detection and target choices on stderr.
pub fn audit(
    g: &GlobalArgs,
    targets_requested: Option<&[String]>,
    explain: bool,
) -> Result<RunReport> {
    let source = match &g.config_dir {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(usage(format!(
                    "--config-dir {}: not a directory",
                    dir.display()
                )));
            }
            CfgSource::Dir(dir.clone())
        }
        None => CfgSource::Embedded,
    };
    let catalog = load_catalog(&source).map_err(|e| usage(e.to_string().trim_end().to_string()))?;
    let host = open_host(g)?;

    // Detection runs against the last benchmark's components only to find
    // the version; checks then use the chosen benchmark's components. A
    // kube-bench cfg does not say where static pod manifests are, so its
    // version is found with the built-in cfg's component definitions.
    let builtin;
    let probe_catalog = if catalog.form == CfgForm::KubeBench {
        builtin = load_catalog(&CfgSource::Embedded)
            .map_err(|e| usage(e.to_string().trim_end().to_string()))?;
        &builtin
    } else {
        &catalog
    };
    if catalog.benchmarks.is_empty() {
        return Err(usage("the cfg defines no benchmark"));
    }
    let probe_bench = probe_catalog
        .benchmarks
        .values()
        .next_back()
        .ok_or_else(|| usage("the cfg defines no benchmark"))?;
    let probe_facts = NodeFacts::new(host.as_ref(), &probe_bench.components);
    let requested = Requested {
        benchmark: g.benchmark.clone(),
        version: g.version.clone(),
    };
    let detection =
        detect::detect_benchmark(&catalog, &probe_facts, &requested).map_err(|e| usage(e.0))?;
    let bench = catalog.benchmark(&detection.benchmark).ok_or_else(|| {
        usage(format!(
            "benchmark {} is not in the cfg",
            detection.benchmark
        ))
    })?;
    let facts = NodeFacts::new(host.as_ref(), &bench.components);

    let mut msg = format!("kubecis: benchmark {}", detection.benchmark);
    if let Some(v) = &detection.kubernetes_version {
        msg.push_str(&format!(" for Kubernetes {v}"));
    }
    msg.push_str(&format!(
        " (from {}); auditing {}",
        detection.source,
        host.describe()
    ));
    if explain {
        eprintln!("{msg}");
        for n in &detection.notes {
            eprintln!("kubecis: note: {n}");
        }
    }

    let all_targets: Vec<String> = bench.controls.iter().map(|c| c.target.clone()).collect();
    let choices: Vec<TargetChoice> = match targets_requested {
        Some(list) if !list.is_empty() => {
            for t in list {
                if !all_targets.contains(t) {
                    return Err(usage(format!(
                        "unknown target {t:?} for {}; it has: {}",
                        bench.name,
                        all_targets.join(", ")
                    )));
                }
            }
            all_targets
                .iter()
                .filter(|t| list.contains(*t))
                .map(|t| TargetChoice {
                    target: t.clone(),
                    selected: true,
                    reason: "requested with --targets".to_string(),
                })
                .collect()
        }
        Some(_) => all_targets
            .iter()
            .map(|t| TargetChoice {
                target: t.clone(),
                selected: true,
                reason: "run: every target".to_string(),
            })
            .collect(),
        None => {
            let choices = detect::choose_targets(&catalog, &facts, &all_targets);
            for c in choices.iter().filter(|_| explain) {
                eprintln!(
                    "kubecis: target {}: {} ({})",
                    c.target,
                    if c.selected { "runs" } else { "skipped" },
                    c.reason
                );
            }
            choices
        }
    };

    let selection = Selection {
        checks: g.check.clone(),
        groups: g.group.clone(),
        skip: g.skip.clone(),
        scored: g.scored,
        unscored: g.unscored,
    };
    let mut controls = Vec::new();
    for choice in choices.iter().filter(|c| c.selected) {
        let Some(ctl) = bench.controls_for(&choice.target) else {
            continue;
        };
        let result = evaluate::evaluate_controls(&facts, ctl, &selection);
        if !result.groups.is_empty() {
            controls.push(result);
        }
    }
    if !g.check.is_empty() || !g.group.is_empty() {
        let known: Vec<&str> = bench.checks().map(|c| c.id.as_str()).collect();
        for id in &g.check {
            if !known.contains(&id.as_str()) {
                bail!(UsageError(format!(
                    "--check {id}: no such check in {}",
                    bench.name
                )));
            }
        }
    }

    Ok(RunReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        hostname: host.hostname(),
        host: host.describe(),
        cfg: catalog.origin.clone(),
        detection,
        targets: choices,
        controls,
    })
}
