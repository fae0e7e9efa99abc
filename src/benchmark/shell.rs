//! The model of a shell-audit check (kube-bench's form) and of the
//! `$apiserverbin`-style variables its text refers to. Values stay as the
//! cfg wrote them: kube-bench gives them meaning only when the check runs
//! (an unknown compare op or `bin_op` is a failed test, not a load error),
//! and the variables are filled in from the node at run time.

/// A check whose audit is a shell command.
#[derive(Debug, Clone, Default)]
pub struct ShellAudit {
    pub audit: String,
    pub audit_config: String,
    /// Written in the cfg; when empty and a test item names an `env`, one
    /// is generated from the component's binary at run time.
    pub audit_env: String,
    pub use_multiple_values: bool,
    pub disable_env_testing: bool,
    /// `type` as written: "", "manual", "skip", or anything else, which
    /// kube-bench runs like an audited check.
    pub check_type: String,
    /// `None` when the check has no `tests` key at all (kube-bench tells
    /// that apart from an empty `test_items` list).
    pub tests: Option<ShellTests>,
}

#[derive(Debug, Clone, Default)]
pub struct ShellTests {
    /// "", "and", "or", or anything else (an error when the check runs).
    pub bin_op: String,
    pub items: Vec<ShellItem>,
}

/// One test item read from audit output: `flag` is searched in the
/// `audit` output, `path` (a Kubernetes JSONPath template) in the
/// `audit_config` output, `env` in the `audit_env` output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellItem {
    pub flag: String,
    pub path: String,
    pub env: String,
    pub set: bool,
    /// Empty `op`: no comparison, only presence.
    pub op: String,
    pub value: String,
}

/// The file lists kube-bench's config.yaml gives a component, in the order
/// kube-bench substitutes them, with the suffix of the variable each one
/// fills (`$apiserverconf` from `confs` / `defaultconf`).
pub const FILE_KINDS: [(&str, &str, &str); 5] = [
    ("conf", "confs", "defaultconf"),
    ("svc", "svc", "defaultsvc"),
    ("kubeconfig", "kubeconfig", "defaultkubeconfig"),
    ("cafile", "cafile", "defaultcafile"),
    ("datadir", "datadirs", "defaultdatadir"),
];

/// Where a variable's value comes from on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableSource {
    /// The first of these programs that runs (kube-bench's `bins`); the
    /// component's name when none does.
    Binary { candidates: Vec<String> },
    /// The first of these paths that exists; else the default; else the
    /// component's name.
    File {
        candidates: Vec<String>,
        default: Option<String>,
    },
}

/// `$<component><suffix>`, e.g. `$apiserverbin`, `$kubeletconf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellVariable {
    /// Without the `$`: `apiserverbin`.
    pub name: String,
    pub component: String,
    pub source: VariableSource,
}

impl ShellVariable {
    pub fn is_binary(&self) -> bool {
        matches!(self.source, VariableSource::Binary { .. })
    }
}
