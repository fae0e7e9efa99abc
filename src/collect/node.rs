//! `NodeFacts`: what the checks may ask of a node — a component's command
//! line, its effective settings with their source, and the files a
//! reference names with their stat — computed on first use and cached for
//! the run. Every fact is either found, absent (with where it looked) or
//! unknown (with why it could not be read).

use super::accounts::Accounts;
use super::cmdline::{map_entry, Flags};
use super::evidence::{key_line, Evidence, EvidenceSource};
use super::host::{FileKind, FileStat, Host, ProcessList, ReadError};
use super::shell::{ShellError, ShellRun, ShellRunner};
use crate::benchmark::model::{
    Component, DirFilter, FileRef, FileSource, SettingQuery, SettingsModel,
};
use crate::yaml;
use serde_json::Value;
use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Largest config file or manifest read. Real ones are a few KiB; parsing
/// YAML costs memory many times its size (a 4 MiB document peaked at over
/// 500 MB), so the bound is kept well below what a node can afford.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// Largest `/etc/passwd` or `/etc/group` read: plain lines, not YAML, and
/// directory-synced nodes can list many thousands of accounts.
const MAX_ACCOUNTS_BYTES: u64 = 16 * 1024 * 1024;
/// Most files one directory reference may name.
const MAX_DIR_ENTRIES: usize = 10_000;
/// Deepest directory walk.
const MAX_DIR_DEPTH: usize = 16;

const SYSTEMD_DIRS: [&str; 3] = [
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// The component owning the static pod directory, and that file's name.
const KUBELET: &str = "kubelet";
const STATIC_POD_DIR_FILE: &str = "static-pod-dir";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdOrigin {
    Process {
        pid: u32,
        others: Vec<u32>,
    },
    Manifest {
        path: String,
    },
    /// Logged to the journal by a carrier process that runs the component
    /// inside itself (k3s).
    Journal {
        units: Vec<String>,
        carrier: String,
        carrier_pid: u32,
    },
    /// No command line of its own: the component runs inside a carrier and
    /// is configured by a file only (k3s's embedded etcd).
    Embedded {
        config: String,
        carrier: String,
        carrier_pid: u32,
    },
}

#[derive(Debug, Clone)]
pub struct CommandLine {
    pub argv: Vec<String>,
    pub flags: Flags,
    pub origin: CmdOrigin,
    /// Environment from the manifest's container spec, when from a manifest.
    pub manifest_env: Option<Vec<(String, String)>>,
}

impl CommandLine {
    pub fn describe(&self, component: &str) -> String {
        match &self.origin {
            CmdOrigin::Process { pid, others } if others.is_empty() => {
                format!("{component} (pid {pid})")
            }
            CmdOrigin::Process { pid, others } => format!(
                "{component} (pid {pid}; {} more matching process{} ignored)",
                others.len(),
                if others.len() == 1 { "" } else { "es" }
            ),
            CmdOrigin::Manifest { path } => {
                format!("{component} static pod manifest {path} (no running process visible)")
            }
            CmdOrigin::Journal {
                units,
                carrier,
                carrier_pid,
            } => format!(
                "{component} inside {carrier} (pid {carrier_pid}; command line from the journal of {}, read with journalctl)",
                units.join(", ")
            ),
            CmdOrigin::Embedded {
                config,
                carrier,
                carrier_pid,
            } => format!(
                "{component} embedded in {carrier} (pid {carrier_pid}), configured by {config}"
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Presence {
    Running(Rc<CommandLine>),
    Absent(String),
    Unknown(String),
}

#[derive(Debug, Clone)]
pub struct ConfigDoc {
    pub path: String,
    pub text: String,
    pub doc: Value,
    /// The process whose own filesystem the file was read from, when the
    /// node itself has no file at `path`.
    pub seen_by: Option<u32>,
}

impl ConfigDoc {
    /// The file's name for evidence: its path, and whose view it is.
    pub fn describe(&self) -> String {
        match self.seen_by {
            Some(pid) => format!(
                "{} (as pid {pid} sees it, through /proc/{pid}/root)",
                self.path
            ),
            None => self.path.clone(),
        }
    }

    fn lookup(&self, query: &SettingQuery) -> Option<(String, Option<usize>)> {
        let path = query.path.as_ref()?;
        let value = path.lookup_text(&self.doc)?;
        let line = path.keys().and_then(|k| key_line(&self.text, &k));
        Some((value, line))
    }
}

/// What a setting lookup found.
#[derive(Debug, Clone)]
pub struct SettingValue {
    pub value: String,
    /// Set by the operator (flag, env, file) rather than a default.
    pub explicit: bool,
    pub evidence: Evidence,
}

#[derive(Debug, Clone)]
pub enum Lookup {
    Found(SettingValue),
    /// Nothing sets it and it has no default; the text says where we looked.
    NotSet(String),
    /// Could not be decided: a source could not be read.
    Unknown(String),
    /// The component is not on this node.
    Absent(String),
}

struct SettingsSources {
    /// `None`: the component runs without a config file.
    config: Option<Result<ConfigDoc, String>>,
    drop_ins: Result<Vec<Result<ConfigDoc, String>>, String>,
}

#[derive(Debug, Clone)]
pub struct FileFact {
    pub path: String,
    pub stat: Result<FileStat, ReadError>,
}

#[derive(Debug, Clone)]
pub enum FileSet {
    Files { how: String, files: Vec<FileFact> },
    Absent(String),
    Unknown(String),
}

pub struct NodeFacts<'h> {
    host: &'h dyn Host,
    components: &'h BTreeMap<String, Component>,
    processes: OnceCell<Result<ProcessList, String>>,
    presence: RefCell<HashMap<String, Presence>>,
    sources: RefCell<HashMap<String, Rc<SettingsSources>>>,
    env: RefCell<HashMap<u32, EnvResult>>,
    accounts: OnceCell<Accounts>,
    static_pod_dir: OnceCell<Result<(String, String), String>>,
    /// Runs shell audits; `None`: they cannot run (see `shell_audit`).
    pub(super) shell: Option<&'h dyn ShellRunner>,
    /// Each distinct command runs once per audit.
    pub(super) shell_runs: RefCell<HashMap<String, ShellResult>>,
}

/// A shell audit's result, shared by every check running the same command.
pub type ShellResult = Result<Rc<ShellRun>, ShellError>;

pub fn component_bins_match(bins: &[String], argv: &[String]) -> bool {
    let Some(argv0) = argv.first() else {
        return false;
    };
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    if base != bins[0] {
        return false;
    }
    bins[1..]
        .iter()
        .enumerate()
        .all(|(i, w)| argv.get(i + 1) == Some(w))
}

/// A process environment as `(name, value)` pairs.
type EnvVars = Vec<(String, String)>;
type EnvResult = Result<Rc<EnvVars>, String>;

/// A static pod's command line and container environment.
fn parse_manifest(text: &str) -> Result<(Vec<String>, EnvVars), String> {
    let doc = yaml::to_document(text).map_err(|e| match e.line {
        Some(l) => format!("line {l}: {}", e.message),
        None => e.message,
    })?;
    let container = doc
        .pointer("/spec/containers/0")
        .ok_or_else(|| "has no spec.containers".to_string())?;
    let strings = |key: &str| -> Result<Vec<String>, String> {
        match container.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    _ => Err(format!("spec.containers[0].{key} holds a non-string item")),
                })
                .collect(),
            Some(_) => Err(format!("spec.containers[0].{key} is not a list")),
        }
    };
    let mut argv = strings("command")?;
    argv.extend(strings("args")?);
    if argv.is_empty() {
        return Err("spec.containers[0] has no command or args".to_string());
    }
    let env = match container.get("env") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|e| {
                let name = e.get("name")?.as_str()?.to_string();
                let value = e
                    .get("value")
                    .map(crate::jsonpath::value_text)
                    .unwrap_or_default();
                Some((name, value))
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok((argv, env))
}

/// The command line in a journal message such as
/// `time="..." level=info msg="Running kube-apiserver --a=1 --b=2"`: the
/// last word of `marker` as argv[0], then the space-separated words after
/// it, up to the end of a quoted `msg="..."` (with `\"` and `\\` unescaped).
/// Arguments containing spaces cannot be told apart in this form.
pub fn logged_command_line(line: &str, marker: &str) -> Option<Vec<String>> {
    let at = line.find(marker)?;
    let quoted = line[..at].contains("msg=\"");
    let rest = &line[at + marker.len()..];
    let mut text = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => match chars.next() {
                Some(n) => text.push(n),
                None => break,
            },
            '"' if quoted => break,
            c => text.push(c),
        }
    }
    let argv0 = marker.split_whitespace().last()?.to_string();
    Some(
        std::iter::once(argv0)
            .chain(text.split_whitespace().map(str::to_string))
            .collect(),
    )
}

impl<'h> NodeFacts<'h> {
    pub fn new(host: &'h dyn Host, components: &'h BTreeMap<String, Component>) -> NodeFacts<'h> {
        NodeFacts {
            host,
            components,
            processes: OnceCell::new(),
            presence: RefCell::new(HashMap::new()),
            sources: RefCell::new(HashMap::new()),
            env: RefCell::new(HashMap::new()),
            accounts: OnceCell::new(),
            static_pod_dir: OnceCell::new(),
            shell: None,
            shell_runs: RefCell::new(HashMap::new()),
        }
    }

    /// Run shell audits with `runner`.
    pub fn with_shell(mut self, runner: &'h dyn ShellRunner) -> NodeFacts<'h> {
        self.shell = Some(runner);
        self
    }

    pub fn host(&self) -> &dyn Host {
        self.host
    }

    pub fn processes(&self) -> &Result<ProcessList, String> {
        self.processes.get_or_init(|| self.host.processes())
    }

    fn component(&self, name: &str) -> Option<&'h Component> {
        self.components.get(name)
    }

    /// The directory the kubelet reads static pods from, and how it was found.
    pub fn static_pod_dir(&self) -> Result<(String, String), String> {
        self.static_pod_dir
            .get_or_init(|| {
                let Some(kubelet) = self.component(KUBELET) else {
                    return Ok((
                        "/etc/kubernetes/manifests".to_string(),
                        "default location".to_string(),
                    ));
                };
                let Some(src) = kubelet.files.get(STATIC_POD_DIR_FILE) else {
                    return Ok((
                        "/etc/kubernetes/manifests".to_string(),
                        "default location".to_string(),
                    ));
                };
                if let (Some(q), Presence::Running(_)) = (&src.setting, self.presence(KUBELET)) {
                    match self.setting(KUBELET, q) {
                        Lookup::Found(v) if v.explicit => {
                            return Ok((v.value.clone(), v.evidence.detail.clone()));
                        }
                        Lookup::Unknown(why) => return Err(why),
                        _ => {}
                    }
                }
                let first = src
                    .candidates
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "/etc/kubernetes/manifests".to_string());
                Ok((
                    first,
                    "the kubeadm default (the kubelet names none)".to_string(),
                ))
            })
            .clone()
    }

    fn find_manifest(&self, comp: &Component) -> Result<Option<String>, String> {
        if comp.static_pod.is_empty() {
            return Ok(None);
        }
        let (dir, _) = self.static_pod_dir()?;
        for name in &comp.static_pod {
            let path = format!("{}/{}", dir.trim_end_matches('/'), name);
            match self.host.stat(&path, true) {
                Ok(_) => return Ok(Some(path)),
                Err(ReadError::NotFound) => {}
                Err(e) => return Err(format!("{path} {e}")),
            }
        }
        Ok(None)
    }

    /// The path of the component's static pod manifest, when there is one.
    pub fn manifest_path(&self, component: &str) -> Option<String> {
        self.find_manifest(self.component(component)?)
            .ok()
            .flatten()
    }

    /// Is the component on this node, and with which command line?
    pub fn presence(&self, name: &str) -> Presence {
        if let Some(p) = self.presence.borrow().get(name) {
            return p.clone();
        }
        let p = self.compute_presence(name);
        self.presence
            .borrow_mut()
            .insert(name.to_string(), p.clone());
        p
    }

    fn compute_presence(&self, name: &str) -> Presence {
        let Some(comp) = self.component(name) else {
            return Presence::Absent(format!("component {name} is not defined"));
        };
        let procs = self.processes();
        if let Ok(list) = procs {
            for bins in &comp.bins {
                let matching: Vec<_> = list
                    .processes
                    .iter()
                    .filter(|p| component_bins_match(bins, &p.argv))
                    .collect();
                if let Some(first) = matching.first() {
                    let argv = first.argv.clone();
                    let flags = Flags::parse(&argv[bins.len().min(argv.len())..]);
                    return Presence::Running(Rc::new(CommandLine {
                        argv,
                        flags,
                        origin: CmdOrigin::Process {
                            pid: first.pid,
                            others: matching[1..].iter().map(|p| p.pid).collect(),
                        },
                        manifest_env: None,
                    }));
                }
            }
        }
        if let Some(p) = self.embedded_presence(name, comp) {
            return p;
        }
        let bins_text = comp
            .bins
            .iter()
            .map(|b| b.join(" "))
            .chain(
                comp.journal
                    .iter()
                    .flat_map(|j| j.carriers.iter().map(|c| c.join(" "))),
            )
            .collect::<Vec<_>>()
            .join(", ");
        let manifest = match self.find_manifest(comp) {
            Ok(m) => m,
            Err(e) => {
                return Presence::Unknown(format!(
                    "cannot look for the {name} static pod manifest: {e}"
                ))
            }
        };
        if let Some(path) = manifest {
            // The kubelet refuses a manifest that is not UTF-8 text, so its
            // command line cannot be taken from one.
            let text = self
                .host
                .read(&path, MAX_CONFIG_BYTES)
                .map_err(|e| e.to_string())
                .and_then(|b| String::from_utf8(b).map_err(|_| "is not UTF-8 text".to_string()));
            return match text {
                Ok(text) => match parse_manifest(&text) {
                    Ok((argv, env)) => {
                        let skip = comp
                            .bins
                            .iter()
                            .find(|b| component_bins_match(b, &argv))
                            .map_or(1, |b| b.len());
                        let flags = Flags::parse(&argv[skip.min(argv.len())..]);
                        Presence::Running(Rc::new(CommandLine {
                            argv,
                            flags,
                            origin: CmdOrigin::Manifest { path },
                            manifest_env: Some(env),
                        }))
                    }
                    Err(e) => Presence::Unknown(format!(
                        "the {name} static pod manifest {path} is malformed: {e}"
                    )),
                },
                Err(why) => {
                    Presence::Unknown(format!("the {name} static pod manifest {path} {why}"))
                }
            };
        }
        let embedded = self.embedded_absence(comp);
        match procs {
            // The component may be one of the processes that could not be
            // read (e.g. /proc mounted with hidepid): that is not absence.
            Ok(list) if list.unreadable > 0 => Presence::Unknown(format!(
                "no readable process is named {bins_text} and there is no static pod manifest{embedded}, but {} process{} could not be read",
                list.unreadable,
                if list.unreadable == 1 { "" } else { "es" }
            )),
            Ok(_) => Presence::Absent(format!(
                "no process named {bins_text} is running and there is no static pod manifest for it{embedded}"
            )),
            Err(e) => Presence::Unknown(format!("cannot list processes: {e}")),
        }
    }

    /// The first running process matching one of `carriers`.
    fn carrier(&self, carriers: &[Vec<String>]) -> Option<(String, u32)> {
        let list = self.processes().as_ref().ok()?;
        carriers.iter().find_map(|words| {
            list.processes
                .iter()
                .find(|p| component_bins_match(words, &p.argv))
                .map(|p| (words.join(" "), p.pid))
        })
    }

    /// Why a component with `present_with` is not embedded here, to finish
    /// an absence message ("" for other components).
    fn embedded_absence(&self, comp: &Component) -> String {
        let Some(pw) = &comp.present_with else {
            return String::new();
        };
        let carriers = pw
            .carriers
            .iter()
            .map(|c| c.join(" "))
            .collect::<Vec<_>>()
            .join(" or ");
        match self.carrier(&pw.carriers) {
            None => format!("; no {carriers} runs to embed it"),
            Some((carrier, pid)) => format!(
                "; {carrier} (pid {pid}) does not embed it ({} does not exist)",
                pw.paths.join(", ")
            ),
        }
    }

    /// Presence of a component that runs inside a carrier process: from the
    /// command line the carrier logged, or from its config file alone.
    fn embedded_presence(&self, name: &str, comp: &Component) -> Option<Presence> {
        if let Some(j) = &comp.journal {
            if let Some((carrier, carrier_pid)) = self.carrier(&j.carriers) {
                let units = j.units.join(", ");
                return Some(match self.host.journal_lines(&j.units, &j.marker) {
                    Err(e) => Presence::Unknown(format!(
                        "{carrier} (pid {carrier_pid}) runs {name}, but its command line cannot be read from the journal of {units}: {e}"
                    )),
                    Ok(lines) => match lines.last().and_then(|l| logged_command_line(l, &j.marker)) {
                        None => Presence::Unknown(format!(
                            "{carrier} (pid {carrier_pid}) runs {name}, but the journal of {units} has no \"{}\" message (rotated away, or the journal is not persistent)",
                            j.marker
                        )),
                        Some(argv) => {
                            let flags = Flags::parse(&argv[1..]);
                            Presence::Running(Rc::new(CommandLine {
                                argv,
                                flags,
                                origin: CmdOrigin::Journal {
                                    units: j.units.clone(),
                                    carrier,
                                    carrier_pid,
                                },
                                manifest_env: None,
                            }))
                        }
                    },
                });
            }
        }
        if let Some(pw) = &comp.present_with {
            if let Some((carrier, carrier_pid)) = self.carrier(&pw.carriers) {
                for path in &pw.paths {
                    match self.host.stat(path, true) {
                        Ok(_) => {
                            return Some(Presence::Running(Rc::new(CommandLine {
                                argv: Vec::new(),
                                flags: Flags::parse::<String>(&[]),
                                origin: CmdOrigin::Embedded {
                                    config: path.clone(),
                                    carrier,
                                    carrier_pid,
                                },
                                manifest_env: None,
                            })))
                        }
                        Err(ReadError::NotFound) => {}
                        Err(e) => {
                            return Some(Presence::Unknown(format!(
                                "cannot tell whether {carrier} (pid {carrier_pid}) runs {name}: {path} {e}"
                            )))
                        }
                    }
                }
            }
        }
        None
    }

    fn environment(&self, cmd: &CommandLine) -> Result<Rc<Vec<(String, String)>>, String> {
        match &cmd.origin {
            CmdOrigin::Manifest { .. } => Ok(Rc::new(cmd.manifest_env.clone().unwrap_or_default())),
            // The carrier's environment is not the component's.
            CmdOrigin::Journal { .. } | CmdOrigin::Embedded { .. } => Ok(Rc::new(Vec::new())),
            CmdOrigin::Process { pid, .. } => {
                if let Some(e) = self.env.borrow().get(pid) {
                    return e.clone();
                }
                let e = self
                    .host
                    .environ(*pid)
                    .map(Rc::new)
                    .map_err(|e| format!("cannot read the environment of pid {pid}: {e}"));
                self.env.borrow_mut().insert(*pid, e.clone());
                e
            }
        }
    }

    fn read_config(&self, path: &str) -> Result<ConfigDoc, String> {
        let bytes = self
            .host
            .read(path, MAX_CONFIG_BYTES)
            .map_err(|e| format!("{path} {e}"))?;
        Self::parse_config(path, bytes, None)
    }

    /// The config file a component names on its command line. The path is
    /// the process's own: a component in a pod may read it from a volume
    /// that has no path on the node (kubeadm's kube-proxy reads its ConfigMap
    /// at /var/lib/kube-proxy/config.conf). When the node has no such file,
    /// it is read as the running process sees it.
    fn read_component_config(&self, path: &str, cmd: &CommandLine) -> Result<ConfigDoc, String> {
        let not_on_node = match self.host.read(path, MAX_CONFIG_BYTES) {
            Ok(bytes) => return Self::parse_config(path, bytes, None),
            Err(ReadError::NotFound) => ReadError::NotFound,
            Err(e) => return Err(format!("{path} {e}")),
        };
        let CmdOrigin::Process { pid, .. } = cmd.origin else {
            return Err(format!("{path} {not_on_node}"));
        };
        match self.host.read_as_process(pid, path, MAX_CONFIG_BYTES) {
            Ok(bytes) => Self::parse_config(path, bytes, Some(pid)),
            Err(ReadError::NotFound) => Err(format!(
                "{path} does not exist, on the node or in the filesystem of pid {pid}"
            )),
            Err(e) => Err(format!(
                "{path} does not exist on the node, and in the filesystem of pid {pid} it {e}"
            )),
        }
    }

    fn parse_config(path: &str, bytes: Vec<u8>, seen_by: Option<u32>) -> Result<ConfigDoc, String> {
        let text = String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))?;
        let doc = yaml::to_document(&text).map_err(|e| match e.line {
            Some(l) => format!("{path}:{l} is malformed: {}", e.message),
            None => format!("{path} is malformed: {}", e.message),
        })?;
        if !doc.is_object() && !doc.is_null() {
            return Err(format!("{path} is not a mapping of settings"));
        }
        Ok(ConfigDoc {
            path: path.to_string(),
            text,
            doc,
            seen_by,
        })
    }

    fn config_path(&self, comp: &Component, cmd: &CommandLine) -> Result<Option<String>, String> {
        let Some(src) = &comp.config_file else {
            return Ok(None);
        };
        if let CmdOrigin::Embedded { config, .. } = &cmd.origin {
            return Ok(Some(config.clone()));
        }
        let Some(q) = &src.setting else {
            return Ok(None);
        };
        if let Some(flag) = &q.flag {
            if let Some(v) = cmd.flags.value(flag) {
                return Ok(Some(v));
            }
        }
        if comp.settings == SettingsModel::Etcd {
            if let Some(var) = &q.env {
                let env = self.environment(cmd)?;
                if let Some((_, v)) = env.iter().find(|(k, _)| k == var) {
                    return Ok(Some(v.clone()));
                }
            }
        }
        Ok(None)
    }

    fn settings_sources(
        &self,
        name: &str,
        comp: &Component,
        cmd: &CommandLine,
    ) -> Rc<SettingsSources> {
        if let Some(s) = self.sources.borrow().get(name) {
            return s.clone();
        }
        let config = match self.config_path(comp, cmd) {
            Ok(Some(path)) => Some(self.read_component_config(&path, cmd)),
            Ok(None) => None,
            Err(e) => Some(Err(format!(
                "cannot tell whether {name} uses a config file: {e}"
            ))),
        };
        let drop_ins = match comp
            .drop_in_dir
            .as_ref()
            .and_then(|d| d.setting.as_ref())
            .and_then(|q| q.flag.as_ref())
            .and_then(|f| cmd.flags.value(f))
        {
            None => Ok(Vec::new()),
            Some(dir) => match self.host.list_dir(&dir) {
                Ok(names) => Ok(names
                    .iter()
                    .filter(|n| n.ends_with(".conf"))
                    .map(|n| self.read_config(&format!("{}/{n}", dir.trim_end_matches('/'))))
                    .collect()),
                // The kubelet accepts a --config-dir that does not exist yet.
                Err(ReadError::NotFound) => Ok(Vec::new()),
                Err(e) => Err(format!("drop-in directory {dir} {e}")),
            },
        };
        let s = Rc::new(SettingsSources { config, drop_ins });
        self.sources
            .borrow_mut()
            .insert(name.to_string(), s.clone());
        s
    }

    fn default_entry<'c>(
        comp: &'c Component,
        query: &SettingQuery,
    ) -> Option<&'c crate::benchmark::model::SettingDefault> {
        comp.defaults.iter().find(|d| {
            let same_key = d.query.key == query.key;
            same_key
                && ((query.flag.is_some() && d.query.flag == query.flag)
                    || (query.path.is_some() && d.query.path == query.path)
                    || (query.env.is_some() && d.query.env == query.env))
        })
    }

    /// A config-file value the component treats as unset (and so defaults).
    fn config_value_is_unset(comp: &Component, query: &SettingQuery, value: &str) -> bool {
        Self::default_entry(comp, query).is_some_and(|d| d.config_unset.iter().any(|u| u == value))
    }

    fn default_for(
        &self,
        comp: &Component,
        query: &SettingQuery,
        config_in_use: bool,
    ) -> Option<SettingValue> {
        let d = Self::default_entry(comp, query)?;
        let (value, mode) = match (&d.flags_only, config_in_use, comp.settings) {
            (Some(v), false, SettingsModel::Kubelet) => (v.clone(), " without a config file"),
            (_, true, SettingsModel::Kubelet) => (d.value.clone(), " with a config file"),
            _ => (d.value.clone(), ""),
        };
        let mut ev = Evidence::new(
            EvidenceSource::Default,
            format!(
                "{} is not set; {}{mode} defaults it to {value}",
                query.label(),
                comp.name
            ),
        );
        ev.value = Some(value.clone());
        Some(SettingValue {
            value,
            explicit: false,
            evidence: ev,
        })
    }

    fn flag_value(
        &self,
        cmd: &CommandLine,
        component: &str,
        query: &SettingQuery,
    ) -> Option<SettingValue> {
        let flag = query.flag.as_ref()?;
        let occ = cmd.flags.get(flag)?;
        let raw = occ.value.clone().unwrap_or_else(|| "true".to_string());
        let value = match &query.key {
            Some(k) => map_entry(&raw, k)?,
            None => raw,
        };
        let (source, pid, path) = match &cmd.origin {
            CmdOrigin::Process { pid, .. } => (EvidenceSource::CommandLine, Some(*pid), None),
            CmdOrigin::Manifest { path } => (EvidenceSource::Manifest, None, Some(path.clone())),
            CmdOrigin::Journal { carrier_pid, .. } => {
                (EvidenceSource::Journal, Some(*carrier_pid), None)
            }
            CmdOrigin::Embedded { carrier_pid, .. } => {
                (EvidenceSource::CommandLine, Some(*carrier_pid), None)
            }
        };
        let repeated = cmd.flags.count(flag);
        let mut detail = format!("{} on {}", occ.written, cmd.describe(component));
        if repeated > 1 {
            detail.push_str(&format!(" (given {repeated} times; the last one counts)"));
        }
        let mut ev = Evidence::new(source, detail);
        ev.flag = Some(flag.clone());
        ev.key = query.key.clone();
        ev.pid = pid;
        ev.path = path;
        ev.value = Some(value.clone());
        Some(SettingValue {
            value,
            explicit: true,
            evidence: ev,
        })
    }

    fn doc_value(
        comp: &Component,
        doc: &ConfigDoc,
        query: &SettingQuery,
        source: EvidenceSource,
    ) -> Option<SettingValue> {
        let (value, line) = doc.lookup(query)?;
        if Self::config_value_is_unset(comp, query, &value) {
            return None;
        }
        let key = query
            .path
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let what = if source == EvidenceSource::DropIn {
            "drop-in"
        } else {
            "config file"
        };
        let shown = if value.is_empty() { "\"\"" } else { &value };
        let mut ev = Evidence::new(
            source,
            format!("{key}: {shown} in {what} {}", doc.describe()),
        );
        ev.path = Some(doc.path.clone());
        ev.pid = doc.seen_by;
        ev.line = line;
        ev.key = Some(key);
        ev.value = Some(value.clone());
        Some(SettingValue {
            value,
            explicit: true,
            evidence: ev,
        })
    }

    /// The effective value of a setting of `component`, with its source.
    pub fn setting(&self, component: &str, query: &SettingQuery) -> Lookup {
        let Some(comp) = self.component(component) else {
            return Lookup::Absent(format!("component {component} is not defined"));
        };
        let cmd = match self.presence(component) {
            Presence::Running(c) => c,
            Presence::Absent(why) => return Lookup::Absent(why),
            Presence::Unknown(why) => return Lookup::Unknown(why),
        };
        let sources = self.settings_sources(component, comp, &cmd);
        let config_in_use = sources.config.is_some();
        let not_set = |where_: &str| {
            Lookup::NotSet(format!(
                "{} is not set ({where_}) and has no default",
                query.label()
            ))
        };
        match comp.settings {
            SettingsModel::Flags => {
                if let Some(v) = self.flag_value(&cmd, component, query) {
                    return Lookup::Found(v);
                }
                match self.default_for(comp, query, false) {
                    Some(v) => Lookup::Found(v),
                    None => not_set(&format!("looked at {}", cmd.describe(component))),
                }
            }
            SettingsModel::Kubelet => {
                if let Some(v) = self.flag_value(&cmd, component, query) {
                    return Lookup::Found(v);
                }
                if query.path.is_some() {
                    match &sources.drop_ins {
                        Err(e) => return Lookup::Unknown(e.clone()),
                        Ok(docs) => {
                            for d in docs.iter().rev() {
                                match d {
                                    Err(e) => return Lookup::Unknown(e.clone()),
                                    Ok(doc) => {
                                        if let Some(v) = Self::doc_value(
                                            comp,
                                            doc,
                                            query,
                                            EvidenceSource::DropIn,
                                        ) {
                                            return Lookup::Found(v);
                                        }
                                    }
                                }
                            }
                        }
                    }
                    match &sources.config {
                        Some(Err(e)) => return Lookup::Unknown(e.clone()),
                        Some(Ok(doc)) => {
                            if let Some(v) =
                                Self::doc_value(comp, doc, query, EvidenceSource::ConfigFile)
                            {
                                return Lookup::Found(v);
                            }
                        }
                        None => {}
                    }
                }
                match self.default_for(comp, query, config_in_use) {
                    Some(v) => Lookup::Found(v),
                    None => not_set(&format!(
                        "looked at {}{}",
                        cmd.describe(component),
                        match &sources.config {
                            Some(Ok(doc)) => format!(" and {}", doc.describe()),
                            _ => String::new(),
                        }
                    )),
                }
            }
            SettingsModel::Etcd => {
                match &sources.config {
                    Some(Err(e)) => return Lookup::Unknown(e.clone()),
                    Some(Ok(doc)) => {
                        // etcd ignores flags and environment when given a
                        // config file (etcd.io op-guide/configuration).
                        if let Some(v) =
                            Self::doc_value(comp, doc, query, EvidenceSource::ConfigFile)
                        {
                            return Lookup::Found(v);
                        }
                        return match self.default_for(comp, query, true) {
                            Some(v) => Lookup::Found(v),
                            None => not_set(&format!("config file {} is in use", doc.describe())),
                        };
                    }
                    None => {}
                }
                if let Some(v) = self.flag_value(&cmd, component, query) {
                    return Lookup::Found(v);
                }
                if let Some(var) = &query.env {
                    match self.environment(&cmd) {
                        Err(e) => return Lookup::Unknown(e),
                        Ok(env) => {
                            if let Some((_, v)) = env.iter().find(|(k, _)| k == var) {
                                let mut ev = Evidence::new(
                                    EvidenceSource::Environment,
                                    format!(
                                        "{var}={v} in the environment of {}",
                                        cmd.describe(component)
                                    ),
                                );
                                ev.key = Some(var.clone());
                                ev.value = Some(v.clone());
                                if let CmdOrigin::Process { pid, .. } = cmd.origin {
                                    ev.pid = Some(pid);
                                }
                                return Lookup::Found(SettingValue {
                                    value: v.clone(),
                                    explicit: true,
                                    evidence: ev,
                                });
                            }
                        }
                    }
                }
                match self.default_for(comp, query, false) {
                    Some(v) => Lookup::Found(v),
                    None => not_set(&format!(
                        "looked at {} and its environment",
                        cmd.describe(component)
                    )),
                }
            }
        }
    }

    pub fn accounts(&self) -> &Accounts {
        self.accounts.get_or_init(|| {
            // A name the files cannot give is unknown, never a number that
            // then fails a `root:root` test.
            let read = |p: &str| {
                self.host
                    .read(p, MAX_ACCOUNTS_BYTES)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .map_err(|e| format!("{p} {e}"))
            };
            Accounts::from_files(read("/etc/passwd"), read("/etc/group"))
        })
    }

    /// The files a reference names on this node.
    pub fn files(&self, fref: &FileRef) -> FileSet {
        match fref {
            FileRef::Paths(paths) => self.existing(paths, "listed in the check"),
            FileRef::Dir { dir, filter } => self.walk(
                dir,
                filter,
                &format!("files matching {} in {dir}", filter.pattern),
            ),
            FileRef::Named {
                component,
                name,
                filter,
            } => {
                let Some(src) = self.component(component).and_then(|c| c.files.get(name)) else {
                    return FileSet::Absent(format!("component {component} has no file {name}"));
                };
                let resolved = self.resolve_source(component, name, src);
                match (resolved, filter.as_ref().or(src.filter.as_ref())) {
                    (FileSet::Files { how, files }, Some(filter)) if files.len() == 1 => {
                        let dir = &files[0];
                        match &dir.stat {
                            Ok(st) if st.kind == FileKind::Dir => self.walk(
                                &dir.path,
                                filter,
                                &format!(
                                    "files matching {} in {} ({how})",
                                    filter.pattern, dir.path
                                ),
                            ),
                            Ok(_) => {
                                FileSet::Unknown(format!("{} ({how}) is not a directory", dir.path))
                            }
                            Err(e) => FileSet::Unknown(format!("{} {e}", dir.path)),
                        }
                    }
                    (other, _) => other,
                }
            }
        }
    }

    fn resolve_source(&self, component: &str, name: &str, src: &FileSource) -> FileSet {
        let comp_name = component;
        if src.static_pod_manifest {
            let Some(comp) = self.component(component) else {
                return FileSet::Absent(format!("component {component} is not defined"));
            };
            return match self.find_manifest(comp) {
                Ok(Some(path)) => {
                    let (dir, how) = self.static_pod_dir().unwrap_or_default();
                    let stat = self.host.stat(&path, true);
                    FileSet::Files {
                        how: format!("the {component} static pod manifest in {dir} ({how})"),
                        files: vec![FileFact { path, stat }],
                    }
                }
                Ok(None) => FileSet::Absent(format!(
                    "there is no {component} static pod manifest ({} in {})",
                    comp.static_pod.join(", "),
                    self.static_pod_dir().map(|d| d.0).unwrap_or_default()
                )),
                Err(e) => FileSet::Unknown(e),
            };
        }
        if let Some(unit) = &src.systemd_unit {
            return self.systemd_unit(unit);
        }
        if let Some(q) = &src.setting {
            match self.setting(comp_name, q) {
                Lookup::Found(v) if v.explicit || src.candidates.is_empty() => {
                    let path = v.value.clone();
                    return match self.host.stat(&path, true) {
                        Err(ReadError::NotFound) => FileSet::Absent(format!(
                            "{path} ({}) does not exist",
                            v.evidence.detail
                        )),
                        stat => FileSet::Files {
                            how: format!("named by {}", v.evidence.detail),
                            files: vec![FileFact { path, stat }],
                        },
                    };
                }
                Lookup::Unknown(why) => return FileSet::Unknown(why),
                _ => {}
            }
        }
        if src.candidates.is_empty() {
            return FileSet::Absent(format!(
                "{component} does not name its {name} file on this node"
            ));
        }
        self.existing(
            &src.candidates,
            &format!("the first of the usual {name} locations that exists"),
        )
        .first_only()
    }

    fn existing(&self, paths: &[String], how: &str) -> FileSet {
        let mut files = Vec::new();
        for p in paths {
            match self.host.stat(p, true) {
                Err(ReadError::NotFound) => {}
                stat => files.push(FileFact {
                    path: p.clone(),
                    stat,
                }),
            }
        }
        if files.is_empty() {
            FileSet::Absent(format!("none of {} exists", paths.join(", ")))
        } else {
            FileSet::Files {
                how: how.to_string(),
                files,
            }
        }
    }

    fn systemd_unit(&self, unit: &str) -> FileSet {
        let mut files = Vec::new();
        let mut unit_found = None;
        for dir in SYSTEMD_DIRS {
            let p = format!("{dir}/{unit}");
            match self.host.stat(&p, true) {
                Err(ReadError::NotFound) => {}
                stat if unit_found.is_none() => {
                    unit_found = Some(p.clone());
                    files.push(FileFact { path: p, stat });
                }
                _ => {}
            }
        }
        // Drop-ins: a name in an earlier directory hides the same name later.
        let mut seen = std::collections::BTreeSet::new();
        for dir in SYSTEMD_DIRS {
            let d = format!("{dir}/{unit}.d");
            match self.host.list_dir(&d) {
                Ok(names) => {
                    for n in names.into_iter().filter(|n| n.ends_with(".conf")) {
                        if seen.insert(n.clone()) {
                            let p = format!("{d}/{n}");
                            let stat = self.host.stat(&p, true);
                            files.push(FileFact { path: p, stat });
                        }
                    }
                }
                Err(ReadError::NotFound) => {}
                Err(e) => return FileSet::Unknown(format!("{d} {e}")),
            }
        }
        if files.is_empty() {
            FileSet::Absent(format!(
                "no {unit} unit or drop-in in {}",
                SYSTEMD_DIRS.join(", ")
            ))
        } else {
            FileSet::Files {
                how: format!("the {unit} unit and its drop-ins"),
                files,
            }
        }
    }

    fn walk(&self, dir: &str, filter: &DirFilter, how: &str) -> FileSet {
        let mut files = Vec::new();
        match self.host.stat(dir, true) {
            Err(ReadError::NotFound) => return FileSet::Absent(format!("{dir} does not exist")),
            Err(e) => return FileSet::Unknown(format!("{dir} {e}")),
            Ok(st) if st.kind != FileKind::Dir => {
                return FileSet::Unknown(format!("{dir} is not a directory"))
            }
            Ok(st) => {
                // `*` means everything under the directory, itself included.
                if filter.pattern == "*" {
                    files.push(FileFact {
                        path: dir.to_string(),
                        stat: Ok(st),
                    });
                }
            }
        }
        let mut stack = vec![(dir.trim_end_matches('/').to_string(), 0usize)];
        while let Some((d, depth)) = stack.pop() {
            let names = match self.host.list_dir(&d) {
                Ok(n) => n,
                Err(e) => return FileSet::Unknown(format!("{d} {e}")),
            };
            for n in names {
                let p = format!("{d}/{n}");
                let lst = self.host.stat(&p, false);
                if let Ok(st) = &lst {
                    if st.kind == FileKind::Dir && filter.recursive && depth < MAX_DIR_DEPTH {
                        stack.push((p.clone(), depth + 1));
                    }
                }
                if filter.matcher.is_match(&n) {
                    let stat = match lst {
                        Ok(st) if st.kind == FileKind::Symlink => self.host.stat(&p, true),
                        other => other,
                    };
                    files.push(FileFact { path: p, stat });
                    if files.len() > MAX_DIR_ENTRIES {
                        return FileSet::Unknown(format!(
                            "{dir} holds more than {MAX_DIR_ENTRIES} matching files"
                        ));
                    }
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if files.is_empty() {
            FileSet::Absent(format!("no file matches {} in {dir}", filter.pattern))
        } else {
            FileSet::Files {
                how: how.to_string(),
                files,
            }
        }
    }

    /// Read and parse a document for a document audit.
    pub fn document(&self, path: &str) -> Result<ConfigDoc, String> {
        self.read_config(path)
    }
}

impl FileSet {
    fn first_only(self) -> FileSet {
        match self {
            FileSet::Files { how, mut files } => {
                files.truncate(1);
                FileSet::Files { how, files }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::{load_catalog, CfgSource};
    use crate::collect::host::Process;
    use crate::jsonpath::JsonPath;

    /// A node with one process, kube-proxy as kubeadm runs it, and two file
    /// systems: the node's and the one the process sees (its pod's), each
    /// holding the config file or not.
    struct PodHost {
        node_config: Option<&'static str>,
        pod_config: Result<Option<&'static str>, ReadError>,
    }

    const PROXY_PID: u32 = 4242;
    const PROXY_CONFIG: &str = "/var/lib/kube-proxy/config.conf";

    fn config_bytes(config: Option<&str>, path: &str) -> Result<Vec<u8>, ReadError> {
        match config {
            Some(text) if path == PROXY_CONFIG => Ok(text.as_bytes().to_vec()),
            _ => Err(ReadError::NotFound),
        }
    }

    impl Host for PodHost {
        fn describe(&self) -> String {
            "a node with kube-proxy in a pod".to_string()
        }
        fn processes(&self) -> Result<ProcessList, String> {
            Ok(ProcessList {
                processes: vec![Process {
                    pid: PROXY_PID,
                    argv: vec![
                        "/usr/local/bin/kube-proxy".to_string(),
                        format!("--config={PROXY_CONFIG}"),
                    ],
                }],
                unreadable: 0,
            })
        }
        fn environ(&self, _pid: u32) -> Result<Vec<(String, String)>, ReadError> {
            Ok(Vec::new())
        }
        fn stat(&self, _path: &str, _follow: bool) -> Result<FileStat, ReadError> {
            Err(ReadError::NotFound)
        }
        fn read(&self, path: &str, _limit: u64) -> Result<Vec<u8>, ReadError> {
            config_bytes(self.node_config, path)
        }
        fn list_dir(&self, _path: &str) -> Result<Vec<String>, ReadError> {
            Err(ReadError::NotFound)
        }
        fn read_as_process(&self, pid: u32, path: &str, _limit: u64) -> Result<Vec<u8>, ReadError> {
            assert_eq!(pid, PROXY_PID);
            config_bytes(self.pod_config.clone()?, path)
        }
        fn hostname(&self) -> Option<String> {
            None
        }
        fn binary_version(&self, path: &str) -> Result<String, String> {
            Err(format!("no binary {path} here"))
        }
        fn journal_lines(&self, _units: &[String], _marker: &str) -> Result<Vec<String>, String> {
            Err("no journal here".to_string())
        }
    }

    fn metrics_address(
        node_config: Option<&'static str>,
        pod_config: Result<Option<&'static str>, ReadError>,
    ) -> Lookup {
        let host = PodHost {
            node_config,
            pod_config,
        };
        let catalog = load_catalog(&CfgSource::Embedded).unwrap();
        let comps = &catalog.benchmark("cis-1.12").unwrap().components;
        let facts = NodeFacts::new(&host, comps);
        facts.setting(
            "proxy",
            &SettingQuery {
                flag: Some("--metrics-bind-address".to_string()),
                path: Some(JsonPath::parse("{.metricsBindAddress}").unwrap()),
                env: None,
                key: None,
            },
        )
    }

    #[test]
    fn a_config_file_only_in_the_process_pod_is_read_as_the_process_sees_it() {
        let pod = "kind: KubeProxyConfiguration\nmetricsBindAddress: 0.0.0.0:10249\n";
        let Lookup::Found(v) = metrics_address(None, Ok(Some(pod))) else {
            panic!("expected a value");
        };
        assert_eq!(v.value, "0.0.0.0:10249");
        assert_eq!(v.evidence.source, EvidenceSource::ConfigFile);
        assert_eq!(v.evidence.path.as_deref(), Some(PROXY_CONFIG));
        assert_eq!(v.evidence.pid, Some(PROXY_PID));
        assert_eq!(v.evidence.line, Some(2));
        assert!(
            v.evidence.detail.contains("as pid 4242 sees it"),
            "{}",
            v.evidence.detail
        );

        // The node's own file comes first: static pods mount their files
        // from the node at the same paths.
        let node = "metricsBindAddress: 127.0.0.1:10249\n";
        let Lookup::Found(v) = metrics_address(Some(node), Ok(Some(pod))) else {
            panic!("expected a value");
        };
        assert_eq!(v.value, "127.0.0.1:10249");
        assert_eq!(v.evidence.pid, None);
    }

    #[test]
    fn a_config_file_nowhere_or_unreadable_in_the_pod_is_unknown() {
        // Never absent, and so never replaced by a default.
        let unknown = |pod| match metrics_address(None, pod) {
            Lookup::Unknown(why) => why,
            other => panic!("expected unknown, got {other:?}"),
        };
        let why = unknown(Ok(None));
        assert!(
            why.contains("on the node or in the filesystem of pid 4242"),
            "{why}"
        );
        let why = unknown(Err(ReadError::PermissionDenied(
            "needs CAP_SYS_PTRACE".into(),
        )));
        assert!(
            why.contains("permission denied (needs CAP_SYS_PTRACE)"),
            "{why}"
        );
    }

    #[test]
    fn manifests_give_command_args_and_env() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --profiling=false\n    args: [--x=1]\n    env:\n    - name: A\n      value: b\n";
        let (argv, env) = parse_manifest(text).unwrap();
        assert_eq!(argv, vec!["kube-apiserver", "--profiling=false", "--x=1"]);
        assert_eq!(env, vec![("A".to_string(), "b".to_string())]);
        assert!(parse_manifest("kind: Pod\n")
            .unwrap_err()
            .contains("spec.containers"));
        assert!(parse_manifest("spec: [\n").unwrap_err().contains("line"));
    }

    #[test]
    fn unreadable_processes_make_a_missing_component_unknown() {
        use crate::benchmark::{load_catalog, CfgSource};
        let catalog = load_catalog(&CfgSource::Embedded).unwrap();
        let comps = &catalog.benchmark("cis-1.12").unwrap().components;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("root")).unwrap();
        for (hidden, absent) in [(0, true), (3, false)] {
            std::fs::write(
                dir.path().join("node.yaml"),
                format!("unreadable_processes: {hidden}\n"),
            )
            .unwrap();
            let host = crate::collect::SnapshotHost::open(dir.path()).unwrap();
            let facts = NodeFacts::new(&host, comps);
            match facts.presence("kubelet") {
                Presence::Absent(why) => assert!(absent, "{why}"),
                Presence::Unknown(why) => {
                    assert!(!absent);
                    assert!(why.contains("3 processes could not be read"), "{why}");
                }
                Presence::Running(_) => panic!("no kubelet in the snapshot"),
            }
        }
    }

    #[test]
    fn binaries_match_by_exact_name() {
        let bins = vec!["kubelet".to_string()];
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert!(component_bins_match(
            &bins,
            &argv("/usr/bin/kubelet --config=x")
        ));
        assert!(!component_bins_match(
            &bins,
            &argv("/usr/bin/kubelet-wrapper --config=x")
        ));
        assert!(!component_bins_match(&bins, &argv("grep kubelet")));
        let hk = vec!["hyperkube".to_string(), "kubelet".to_string()];
        assert!(component_bins_match(&hk, &argv("/hyperkube kubelet --a")));
        assert!(!component_bins_match(
            &hk,
            &argv("/hyperkube apiserver --a")
        ));
    }
}

#[cfg(test)]
mod journal_tests {
    use super::logged_command_line;

    #[test]
    fn a_k3s_journal_message_gives_the_command_line() {
        let line = r#"Sep 11 17:22:08 server-0 k3s[2234]: time="2025-09-11T17:22:08Z" level=info msg="Running kube-scheduler --bind-address=127.0.0.1 --kubeconfig=/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig --profiling=false""#;
        let argv = logged_command_line(line, "Running kube-scheduler").unwrap();
        assert_eq!(
            argv,
            vec![
                "kube-scheduler",
                "--bind-address=127.0.0.1",
                "--kubeconfig=/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig",
                "--profiling=false"
            ]
        );
    }

    #[test]
    fn escaped_quotes_stay_inside_the_message() {
        let line = r#"level=info msg="Running kubelet --node-labels=a=\"b\" --x=1" other=2"#;
        let argv = logged_command_line(line, "Running kubelet").unwrap();
        assert_eq!(argv, vec!["kubelet", "--node-labels=a=\"b\"", "--x=1"]);
        // Without msg="...", the rest of the line is the command line.
        let argv = logged_command_line("Running kubelet --a=1", "Running kubelet").unwrap();
        assert_eq!(argv, vec!["kubelet", "--a=1"]);
        assert!(logged_command_line("nothing here", "Running kubelet").is_none());
    }
}
