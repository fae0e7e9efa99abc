//! Command-line arguments (clap) and the pipeline they drive: load the cfg,
//! open the host, detect the benchmark and targets, evaluate, report. Turns
//! every failure into a message and an exit status; never panics on input.

use crate::benchmark::{load_catalog, load_catalog_for, CfgForm, CfgSource};
use crate::collect::{
    Host, LiveHost, LiveShell, NodeFacts, RefusingShell, ShellRunner, SnapshotHost,
};
use crate::detect::{self, Requested, TargetChoice};
use crate::evaluate::{self, Selection};
use crate::report::{self, RunReport, TextOptions};
use anyhow::{anyhow, Context, Result};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
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
where etcd runs, node where a kubelet runs, policies and managedservices always), and says \
on stderr what it chose and why. On EKS, GKE and AKS nodes it recognises the platform and \
runs its own benchmark.",
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
        /// Comma-separated targets: master, controlplane, etcd, node, policies,
        /// managedservices.
        #[arg(long, value_delimiter = ',')]
        targets: Vec<String>,
    },
    /// Print kubecis's own version.
    Version,
    /// Validate the whole cfg (the built-in one or --config-dir): every
    /// benchmark's controls files, not only the one a run needs. Exit
    /// status 2 with every mistake listed (file, line, check ID).
    CheckCfg,
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
    /// Distribution whose benchmarks and file layout to use (k3s, rke2, eks,
    /// gke, aks, kubeadm); skips distribution detection.
    #[arg(long, global = true, conflicts_with = "benchmark")]
    pub distribution: Option<String>,
    /// Kubernetes version (major.minor) whose benchmark to run, or a platform
    /// name a kube-bench cfg maps (ocp-3.10, gke-1.0); skips detection.
    #[arg(long, global = true)]
    pub version: Option<String>,
    /// cfg directory to use instead of the built-in one: in the project's
    /// form or kube-bench's, unmodified (docs/kube-bench-compat.md).
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Where the node's filesystem is mounted (e.g. /host in a pod).
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub host_root: PathBuf,
    /// Audit a captured node snapshot folder instead of the live node.
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "host_root")]
    pub snapshot: Option<PathBuf>,
    /// Only these checks (comma-separated IDs); not with --group.
    #[arg(long, global = true, value_delimiter = ',', conflicts_with = "group")]
    pub check: Vec<String>,
    /// Only these groups (comma-separated IDs).
    #[arg(long, global = true, value_delimiter = ',')]
    pub group: Vec<String>,
    /// Report these checks or groups INFO without running them.
    #[arg(long, global = true, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Run the scored checks (--scored=false leaves them out).
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value_t = true, default_missing_value = "true", action = ArgAction::Set)]
    pub scored: bool,
    /// Run the unscored checks (--unscored=false leaves them out).
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value_t = true, default_missing_value = "true", action = ArgAction::Set)]
    pub unscored: bool,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print JUnit XML instead of text (one testsuite per target).
    #[arg(long, global = true)]
    pub junit: bool,
    /// Never run a shell command: each check with a shell audit (kube-bench's
    /// cfg) is WARN with the reason instead.
    #[arg(long, global = true)]
    pub no_exec: bool,
    /// Time limit for one shell audit command, in seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub audit_timeout: u64,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, global = true, value_name = "FILE")]
    pub outputfile: Option<PathBuf>,
    /// Leave out the results section.
    #[arg(long, global = true)]
    pub noresults: bool,
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

/// Why a shell audit did not run under `--no-exec`.
const NO_EXEC_REASON: &str = "--no-exec refuses to run shell commands";

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

/// The node to audit, and how its shell audits run.
enum OpenedHost {
    Live(LiveHost, Box<dyn ShellRunner>),
    Snapshot(Box<SnapshotHost>),
}

impl OpenedHost {
    fn host(&self) -> &dyn Host {
        match self {
            OpenedHost::Live(h, _) => h,
            OpenedHost::Snapshot(h) => h.as_ref(),
        }
    }

    fn shell(&self) -> &dyn ShellRunner {
        match self {
            OpenedHost::Live(_, s) => s.as_ref(),
            OpenedHost::Snapshot(h) => h.as_ref(),
        }
    }
}

fn open_host(g: &GlobalArgs) -> Result<OpenedHost> {
    if let Some(dir) = &g.snapshot {
        let host = SnapshotHost::open(dir).map_err(usage)?;
        return Ok(OpenedHost::Snapshot(Box::new(host)));
    }
    let host = LiveHost::new(&g.host_root).map_err(usage)?;
    let at_root = std::fs::canonicalize(&g.host_root).is_ok_and(|p| p == std::path::Path::new("/"));
    let shell: Box<dyn ShellRunner> = if !at_root {
        // A shell command reads the filesystem kubecis runs in, not the one
        // under --host-root: running it would audit the wrong node.
        Box::new(RefusingShell(format!(
            "shell audits read the machine kubecis runs on, and --host-root {} points elsewhere (mount the host's paths at the same paths and run without --host-root)",
            g.host_root.display()
        )))
    } else {
        Box::new(LiveShell {
            timeout: std::time::Duration::from_secs(g.audit_timeout),
            ..LiveShell::default()
        })
    };
    Ok(OpenedHost::Live(host, shell))
}

fn use_color(g: &GlobalArgs) -> bool {
    match g.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            g.outputfile.is_none()
                && !g.json
                && !g.junit
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// A line on stderr. When stderr is closed (`kubecis 2>&1 | head`), the
/// line is lost quietly; `eprintln!` would end the run with a panic.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
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

fn cfg_source(g: &GlobalArgs) -> Result<CfgSource> {
    match &g.config_dir {
        Some(dir) if !dir.is_dir() => Err(usage(format!(
            "--config-dir {}: not a directory",
            dir.display()
        ))),
        Some(dir) => Ok(CfgSource::Dir(dir.clone())),
        None => Ok(CfgSource::Embedded),
    }
}

/// Whether `id` looks like a check or group ID (`1.2.3`, `4.2`, `gke-1`).
fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
}

/// Mistakes in the arguments themselves, found before anything is read.
fn check_arguments(g: &GlobalArgs) -> Result<()> {
    for (flag, ids, what) in [
        ("--check", &g.check, "check ID"),
        ("--group", &g.group, "group ID"),
        ("--skip", &g.skip, "check or group ID"),
    ] {
        // Spaces around an ID are dropped, as kube-bench does ("1.1.1, 4.2.1").
        for id in ids.iter().map(|i| i.trim()) {
            if id.is_empty() {
                return Err(usage(format!(
                    "{flag}: an empty ID (a stray comma?); give {what}s such as 1.2.15"
                )));
            }
            if !is_id(id) {
                return Err(usage(format!(
                    "{flag} {id:?}: not a {what} (letters, digits, '.', '-' and '_' only)"
                )));
            }
        }
    }
    // The report is written next to --outputfile at the end of the run;
    // a directory that is not there is a mistake to report now, not then.
    if let Some(path) = &g.outputfile {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        if !dir.is_dir() {
            return Err(usage(format!(
                "--outputfile {}: {} is not a directory",
                path.display(),
                dir.display()
            )));
        }
    }
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
        Some(Command::CheckCfg) => {
            let catalog = load_catalog(&cfg_source(g)?)
                .map_err(|e| usage(e.to_string().trim_end().to_string()))?;
            let checks: usize = catalog
                .benchmarks
                .values()
                .map(|b| b.checks().count())
                .sum();
            emit(
                g,
                &format!(
                    "{}: {} benchmarks, {} distributions, {checks} checks; no mistakes\n",
                    catalog.origin,
                    catalog.benchmarks.len(),
                    catalog.distributions.len()
                ),
            )?;
            return Ok(0);
        }
        Some(Command::Run { targets }) => Some(targets.clone()),
        None => None,
    };
    let report = audit(g, targets_requested.as_deref(), true)?;
    let text = if g.junit {
        report::junit::render(&report)
    } else if g.json {
        report::json::to_text(&report, g.nototals).context("encoding JSON")?
    } else {
        let opts = TextOptions {
            color: use_color(g),
            no_results: g.noresults,
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
    check_arguments(g)?;
    let source = cfg_source(g)?;
    // config.yaml and every benchmark's components first (detection needs
    // them); then the chosen benchmark's controls files.
    let catalog =
        load_catalog_for(&source, &[]).map_err(|e| usage(e.to_string().trim_end().to_string()))?;
    let opened = open_host(g)?;
    let host = opened.host();

    // Detection reads the node with the upstream components (the newest
    // benchmark that belongs to no distribution); checks then use the chosen
    // benchmark's components. A kube-bench cfg does not say where static pod
    // manifests are or how to read versions, so its version is found with the
    // built-in cfg's definitions and mapped with its own table.
    let builtin;
    let probe_catalog = if catalog.form == CfgForm::KubeBench {
        builtin = load_catalog_for(&CfgSource::Embedded, &[])
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
        .rev()
        .find(|b| probe_catalog.distribution_of(&b.name).is_none())
        .or_else(|| probe_catalog.benchmarks.values().next_back())
        .ok_or_else(|| usage("the cfg defines no benchmark"))?;
    let probe_facts = NodeFacts::new(host, &probe_bench.components);
    let requested = Requested {
        benchmark: g.benchmark.clone(),
        version: g.version.clone(),
        distribution: g.distribution.clone(),
    };
    let detection = detect::detect_benchmark(
        &catalog,
        &probe_facts,
        &probe_catalog.version_from,
        &requested,
    )
    .map_err(|e| usage(e.0))?;
    let catalog = load_catalog_for(&source, std::slice::from_ref(&detection.benchmark))
        .map_err(|e| usage(e.to_string().trim_end().to_string()))?;
    let bench = catalog.benchmark(&detection.benchmark).ok_or_else(|| {
        usage(format!(
            "benchmark {} is not in the cfg",
            detection.benchmark
        ))
    })?;
    let refusing = RefusingShell(NO_EXEC_REASON.to_string());
    let shell: &dyn ShellRunner = if g.no_exec { &refusing } else { opened.shell() };
    let facts = NodeFacts::new(host, &bench.components).with_shell(shell);

    if explain {
        match &detection.distribution {
            Some(d) if !detection.distribution_evidence.is_empty() => say(&format!(
                "kubecis: distribution {d} (from {})",
                detection.distribution_evidence.join(", ")
            )),
            _ => {}
        }
    }
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
        say(&msg);
        for n in &detection.notes {
            say(&format!("kubecis: note: {n}"));
        }
    }

    let all_targets: Vec<String> = bench.controls.iter().map(|c| c.target.clone()).collect();
    // kube-bench accepts "worker" for "node", in any case.
    let requested: Option<Vec<String>> = targets_requested.map(|list| {
        list.iter()
            .map(|t| t.trim().to_lowercase().replace("worker", "node"))
            .filter(|t| !t.is_empty())
            .collect()
    });
    let choices: Vec<TargetChoice> = match requested.as_deref() {
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
                say(&format!(
                    "kubecis: target {}: {} ({})",
                    c.target,
                    if c.selected { "runs" } else { "skipped" },
                    c.reason
                ));
            }
            choices
        }
    };

    let ids = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect()
    };
    // Selected checks and groups must exist: a typo would otherwise select
    // nothing and report nothing.
    for id in &ids(&g.check) {
        if !bench.checks().any(|c| &c.id == id) {
            return Err(usage(format!(
                "--check {id}: no such check in {}",
                bench.name
            )));
        }
    }
    for id in &ids(&g.group) {
        let known = bench
            .controls
            .iter()
            .flat_map(|c| &c.groups)
            .any(|gr| &gr.id == id);
        if !known {
            return Err(usage(format!(
                "--group {id}: no such group in {}",
                bench.name
            )));
        }
    }

    let selection = Selection {
        checks: ids(&g.check),
        groups: ids(&g.group),
        skip: ids(&g.skip),
        scored: g.scored,
        unscored: g.unscored,
    };
    let mut controls = Vec::new();
    for choice in choices.iter().filter(|c| c.selected) {
        let Some(ctl) = bench.controls_for(&choice.target) else {
            continue;
        };
        // A target none of whose checks is selected still shows, empty,
        // as in kube-bench's output.
        controls.push(evaluate::evaluate_controls(&facts, ctl, &selection));
    }
    // kube-bench orders targets by their numeric ID (master 1, etcd 2,
    // controlplane 3, node 4, policies 5).
    controls.sort_by_key(|c| c.id.trim().parse::<i64>().unwrap_or(0));
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
