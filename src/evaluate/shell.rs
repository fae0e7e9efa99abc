//! kube-bench's semantics for checks whose audit is a shell command, kept
//! exactly (its check/check.go, check/test.go and cmd/common.go are the
//! spec): `$variable` substitution, the generated `audit_env`, the state
//! rules (no tests, skip, manual, no test items, audit errors), flags found
//! by substring and read with kube-bench's regular expression, JSONPath
//! over the `audit_config` output, `NAME=value` lines for `env`, every
//! compare op with kube-bench's wording of the expected result, `bin_op`,
//! `use_multiple_values`, and which output's text becomes `actual_value`.
//! One deliberate difference: a command kubecis could not run (`--no-exec`,
//! a time-out, a snapshot without its output) is WARN with the reason,
//! never FAIL. Reads the node only through `NodeFacts`.

use super::kube_jsonpath::{self, Source};
use super::{CheckResult, Status};
use crate::benchmark::model::{Check, Controls, ShellAudit, ShellItem};
use crate::collect::node::NodeFacts;
use crate::collect::{Evidence, EvidenceSource, ShellError, ShellRun};
use regex::Regex;
use serde_json::Value;

/// What a target's shell checks share: its variables' values and the
/// binaries its file names (for the generated `audit_env`).
#[derive(Debug, Clone, Default)]
pub struct ShellContext {
    /// `(name without $, value)` in substitution order.
    pub vars: Vec<(String, String)>,
    /// The binary variables whose `$name` the target's file uses, as
    /// `(name, value)`.
    pub file_bins: Vec<(String, String)>,
}

impl ShellContext {
    /// Resolve the variables of a target on the node.
    pub fn for_controls(facts: &NodeFacts, controls: &Controls) -> ShellContext {
        let vars = facts.shell_variables(&controls.variables);
        let mut texts: Vec<&str> = vec![&controls.text];
        for g in &controls.groups {
            texts.push(&g.text);
            for c in &g.checks {
                texts.extend(check_texts(c));
            }
        }
        let file_bins = controls
            .variables
            .iter()
            .filter(|v| v.is_binary())
            .filter_map(|v| vars.iter().find(|(n, _)| *n == v.name))
            .filter(|(n, value)| {
                !value.is_empty() && texts.iter().any(|t| t.contains(&format!("${n}")))
            })
            .cloned()
            .collect();
        ShellContext { vars, file_bins }
    }

    pub fn substitute(&self, text: &str) -> String {
        substitute(text, &self.vars)
    }
}

fn check_texts(c: &Check) -> Vec<&str> {
    let mut out = vec![c.text.as_str(), c.remediation.as_str()];
    if let Some(crate::benchmark::model::Audit::Shell(s)) = &c.audit {
        out.extend([
            s.audit.as_str(),
            s.audit_config.as_str(),
            s.audit_env.as_str(),
        ]);
        for i in s.tests.iter().flat_map(|t| &t.items) {
            out.extend([
                i.flag.as_str(),
                i.path.as_str(),
                i.env.as_str(),
                i.value.as_str(),
            ]);
        }
    }
    out
}

/// Replace each `$name` with its value, in order; a value of several words
/// is single-quoted, an empty one leaves the variable as written.
pub fn substitute(text: &str, vars: &[(String, String)]) -> String {
    let mut s = text.to_string();
    for (name, value) in vars {
        if value.is_empty() {
            continue;
        }
        let needle = format!("${name}");
        if !s.contains(&needle) {
            continue;
        }
        let with = if value.split_whitespace().count() > 1 {
            format!("'{value}'")
        } else {
            value.clone()
        };
        s = s.replace(&needle, &with);
    }
    s
}

/// Which output a test item is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditUsed {
    Command,
    Config,
    Env,
}

/// One test item's result on one output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemResult {
    pub passed: bool,
    pub found: bool,
    pub actual: String,
    pub expected: String,
}

fn item_name(item: &ShellItem, used: AuditUsed) -> &str {
    match used {
        AuditUsed::Command => &item.flag,
        AuditUsed::Config => &item.path,
        AuditUsed::Env => &item.env,
    }
}

/// kube-bench's flag search: the flag anywhere in the output, then its value
/// after `=`, `:` or `: ` up to white space; a flag with no value is "true"
/// when it starts with `--`, else the flag itself.
pub fn flag_value(output: &str, flag: &str) -> Result<(bool, String), String> {
    if output.is_empty() || flag.is_empty() || !output.contains(flag) {
        return Ok((false, String::new()));
    }
    // Go's `\s` is ASCII white space only.
    let re = Regex::new(&format!(r"({flag})(=|: *)*([^\t\n\f\r ]*) *"))
        .map_err(|e| format!("invalid flag in testItem definition: {flag}: {e}"))?;
    match re.captures(output) {
        Some(caps) => {
            let value = caps.get(3).map_or("", |m| m.as_str());
            if !value.is_empty() {
                Ok((true, value.to_string()))
            } else if flag.starts_with("--") {
                Ok((true, "true".to_string()))
            } else {
                Ok((true, caps.get(1).map_or("", |m| m.as_str()).to_string()))
            }
        }
        None => Err(format!("invalid flag in testItem definition: {output}")),
    }
}

/// kube-bench's path search: the output read as JSON, else YAML, then the
/// JSONPath template printed; found when it prints something.
pub fn path_value(output: &str, path: &str) -> Result<(bool, String), String> {
    let (doc, source) = match serde_json::from_str::<Value>(output) {
        Ok(v) => (v, Source::Json),
        Err(_) => match crate::yaml::to_document(output) {
            Ok(v) => (v, Source::Yaml),
            Err(e) => {
                return Err(format!(
                    "failed to load YAML or JSON from input \"{output}\": {}",
                    e.message
                ))
            }
        },
    };
    let value = kube_jsonpath::execute(path, &doc, source)
        .map_err(|e| format!("unable to parse path expression \"{path}\": {e}"))?;
    Ok((!value.is_empty(), value))
}

/// kube-bench's environment search: the first `NAME=` and the rest of its
/// line.
pub fn env_value(output: &str, env: &str) -> Result<(bool, String), String> {
    if output.is_empty() || env.is_empty() {
        return Ok((false, String::new()));
    }
    let re = Regex::new(&format!(r"{env}=.*(?:$|\n)"))
        .map_err(|e| format!("invalid env in testItem definition: {env}: {e}"))?;
    let found = re.find(output).map_or("", |m| m.as_str());
    let out = found
        .replacen('\n', "", 1)
        .replacen(&format!("{env}="), "", 1);
    Ok((!out.is_empty(), out))
}

fn split_elements(s: &str) -> Vec<String> {
    let clean = s.trim().trim_end_matches(',');
    if clean.is_empty() {
        return Vec::new();
    }
    clean.split(',').map(|e| e.trim().to_string()).collect()
}

fn all_elements_valid(source: &[String], target: &[String]) -> bool {
    match (source.is_empty(), target.is_empty()) {
        (true, true) => true,
        (true, false) | (false, true) => false,
        _ => source.iter().all(|s| target.contains(s)),
    }
}

/// Go's `strconv.Atoi` of trimmed text.
fn go_atoi(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Go's `strconv.ParseInt(s, 8, 64)`.
fn go_octal(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    i64::from_str_radix(digits, 8)
        .ok()
        .map(|v| if neg { -v } else { v })
}

/// kube-bench's compare ops: (expected result, holds). `name` is the flag,
/// path or env the item names; an unknown op gives ("", false).
pub fn compare_op(op: &str, flag_val: &str, compare_val: &str, name: &str) -> (String, bool) {
    let (n, v) = (name, compare_val);
    match op {
        "eq" | "noteq" => {
            let lower = flag_val.to_lowercase();
            // Booleans compare without case on the audit side only.
            let equal = if lower == "false" || lower == "true" {
                lower == compare_val
            } else {
                flag_val == compare_val
            };
            if op == "eq" {
                (format!("'{n}' is equal to '{v}'"), equal)
            } else {
                (format!("'{n}' is not equal to '{v}'"), !equal)
            }
        }
        "gt" | "gte" | "lt" | "lte" => {
            let (Some(a), Some(b)) = (go_atoi(flag_val), go_atoi(compare_val)) else {
                return (
                    format!("Invalid Number(s) used for comparison: '{flag_val}' '{v}'"),
                    false,
                );
            };
            match op {
                "gt" => (format!("'{n}' is greater than {v}"), a > b),
                "gte" => (format!("'{n}' is greater or equal to {v}"), a >= b),
                "lt" => (format!("'{n}' is lower than {v}"), a < b),
                _ => (format!("'{n}' is lower or equal to {v}"), a <= b),
            }
        }
        "has" => (format!("'{n}' has '{v}'"), flag_val.contains(v)),
        "nothave" => (format!("'{n}' does not have '{v}'"), !flag_val.contains(v)),
        "regex" => {
            // The loader refuses a regex that does not compile.
            let holds = Regex::new(v).is_ok_and(|re| re.is_match(flag_val));
            (format!("'{n}' matched by regex expression '{v}'"), holds)
        }
        "valid_elements" => (
            format!("'{n}' contains valid elements from '{v}'"),
            all_elements_valid(&split_elements(flag_val), &split_elements(v)),
        ),
        "bitmask" => {
            let Some(requested) = go_octal(flag_val) else {
                return (format!("Not numeric value - flag: {flag_val}"), false);
            };
            let Some(max) = go_octal(v) else {
                return (format!("Not numeric value - flag: {v}"), false);
            };
            (
                format!("{n} has permissions {flag_val}, expected {v} or more restrictive"),
                (max & requested) == requested,
            )
        }
        _ => (String::new(), false),
    }
}

fn evaluate_one(item: &ShellItem, used: AuditUsed, s: &str) -> ItemResult {
    let found = match used {
        AuditUsed::Command => flag_value(s, &item.flag),
        AuditUsed::Config => path_value(s, &item.path),
        AuditUsed::Env => env_value(s, &item.env),
    };
    let (found, value) = match found {
        Ok(fv) => fv,
        Err(e) => {
            return ItemResult {
                actual: e,
                ..ItemResult::default()
            }
        }
    };
    let name = item_name(item, used);
    let (expected, passed) = if item.set {
        if found && !item.op.is_empty() {
            compare_op(&item.op, &value, &item.value, name)
        } else {
            (format!("'{name}' is present"), found)
        }
    } else {
        (format!("'{name}' is not present"), !found)
    };
    ItemResult {
        passed,
        found,
        actual: String::new(),
        expected,
    }
}

/// A test item on one output: every line on its own with
/// `use_multiple_values` (stopping at the first that fails), else the whole.
pub fn execute_item(item: &ShellItem, used: AuditUsed, output: &str, multiple: bool) -> ItemResult {
    let s = output.trim_end_matches([' ', '\n']);
    let mut result = ItemResult::default();
    let lines: Vec<&str> = if multiple {
        s.split('\n').collect()
    } else {
        vec![s]
    };
    for line in lines {
        result = evaluate_one(item, used, line);
        if !result.passed {
            break;
        }
    }
    result.actual = s.to_string();
    result
}

/// The outputs a check's tests read.
#[derive(Debug, Clone, Default)]
pub struct AuditOutputs {
    pub audit: String,
    pub config: String,
    pub env: String,
}

/// The combined result of a check's test items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestsResult {
    pub passed: bool,
    pub actual: String,
    pub expected: String,
}

/// Every test item, each on the `audit` output first, then (when not found)
/// on the `audit_config` output, then the `audit_env` output; combined with
/// `bin_op`. `Err` carries kube-bench's result and reason for an unknown
/// `bin_op`.
pub fn execute_tests(
    items: &[ShellItem],
    bin_op: &str,
    has_audit_config: bool,
    multiple: bool,
    out: &AuditOutputs,
) -> Result<TestsResult, (TestsResult, String)> {
    let mut results = Vec::new();
    for item in items {
        let mut r = execute_item(item, AuditUsed::Command, &out.audit, multiple);
        if !r.found && has_audit_config {
            r = execute_item(item, AuditUsed::Config, &out.config, multiple);
            if !r.found && !item.env.is_empty() {
                r = execute_item(item, AuditUsed::Env, &out.env, multiple);
            }
        }
        if !r.found && !item.env.is_empty() {
            r = execute_item(item, AuditUsed::Env, &out.env, multiple);
        }
        results.push(r);
    }
    let expected: Vec<&str> = results.iter().map(|r| r.expected.as_str()).collect();
    let (passed, expected) = match bin_op {
        "" | "and" => (results.iter().all(|r| r.passed), expected.join(" AND ")),
        "or" => (results.iter().any(|r| r.passed), expected.join(" OR ")),
        other => {
            return Err((
                TestsResult {
                    passed: false,
                    actual: format!("unknown binary operator for tests {other}\n"),
                    expected: String::new(),
                },
                format!("unknown binary operator for tests {other}"),
            ))
        }
    };
    Ok(TestsResult {
        passed,
        actual: results
            .first()
            .map(|r| r.actual.clone())
            .unwrap_or_default(),
        expected,
    })
}

/// The `audit_env` kube-bench generates: the environment of the process
/// named by the binary.
pub fn generated_audit_env(bin: &str) -> String {
    format!("cat \"/proc/$(/bin/ps -C {bin} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'")
}

/// The binary for the generated `audit_env`: the one binary variable the
/// check's own commands use, else the one the target's file uses.
fn env_binary(sa: &ShellAudit, ctx: &ShellContext) -> Option<String> {
    let used: Vec<&(String, String)> = ctx
        .vars
        .iter()
        .filter(|(n, _)| ctx.file_bins.iter().any(|(b, _)| b == n))
        .filter(|(n, _)| {
            let needle = format!("${n}");
            sa.audit.contains(&needle) || sa.audit_config.contains(&needle)
        })
        .collect();
    match (used.as_slice(), ctx.file_bins.as_slice()) {
        ([(_, v)], _) => Some(v.clone()),
        ([], [(_, v)]) => Some(v.clone()),
        _ => None,
    }
}

/// How running one command turned out, for the check.
enum Ran {
    Output(String),
    /// Ran and failed: kube-bench's error message.
    Failed(String),
    /// Not run, or no usable result: kubecis's reason.
    NotRun(String),
}

fn run_command(facts: &NodeFacts, command: &str, evidence: &mut Vec<Evidence>) -> Ran {
    let script = command.trim();
    if script.is_empty() {
        return Ran::Output(String::new());
    }
    let result = facts.shell_audit(script);
    let ev = |detail: String| {
        let mut e = Evidence::new(EvidenceSource::ShellAudit, detail);
        e.key = Some(script.to_string());
        e
    };
    match result {
        Ok(run) => {
            let ShellRun { output, status } = run.as_ref();
            evidence.push(ev(format!(
                "ran {}: {}",
                crate::go_text::quote(script),
                status_text(*status)
            )));
            if status.success() {
                Ran::Output(output.clone())
            } else {
                Ran::Failed(format!(
                    "failed to run: {}, output: {}, error: {}",
                    crate::go_text::quote(script),
                    crate::go_text::quote(output),
                    status_text(*status)
                ))
            }
        }
        Err(e) => {
            let why = match &e {
                ShellError::Refused(_) | ShellError::NotRecorded => {
                    format!("audit not run: {e}: {}", crate::go_text::quote(script))
                }
                _ => format!(
                    "audit did not complete: {e}: {}",
                    crate::go_text::quote(script)
                ),
            };
            evidence.push(ev(why.clone()));
            Ran::NotRun(why)
        }
    }
}

/// Go's wording of how a process ended.
fn status_text(status: crate::collect::ShellStatus) -> String {
    match status {
        crate::collect::ShellStatus::Exited(code) => format!("exit status {code}"),
        crate::collect::ShellStatus::Signaled(sig) => {
            let name = match sig {
                1 => "hangup".to_string(),
                2 => "interrupt".to_string(),
                6 => "aborted".to_string(),
                9 => "killed".to_string(),
                11 => "segmentation fault".to_string(),
                13 => "broken pipe".to_string(),
                15 => "terminated".to_string(),
                n => format!("signal {n}"),
            };
            format!("signal: {name}")
        }
    }
}

/// Run one shell check the way kube-bench runs it. `forced_skip`: `--skip`
/// or a group of `type: skip`, which kube-bench turns into the check's type.
pub fn evaluate_shell_check(
    facts: &NodeFacts,
    check: &Check,
    sa: &ShellAudit,
    forced_skip: bool,
    ctx: &ShellContext,
) -> CheckResult {
    let check_type = if forced_skip {
        "skip".to_string()
    } else {
        sa.check_type.clone()
    };
    let mut audit_env = sa.audit_env.clone();
    let wants_env = sa
        .tests
        .as_ref()
        .is_some_and(|t| t.items.iter().any(|i| !i.env.is_empty()));
    if audit_env.is_empty() && wants_env && !sa.disable_env_testing {
        if let Some(bin) = env_binary(sa, ctx) {
            audit_env = generated_audit_env(&bin);
        }
    }
    let mut r = CheckResult {
        id: check.id.clone(),
        text: ctx.substitute(&check.text),
        status: Status::Info,
        scored: check.scored,
        kind: check_type.clone(),
        remediation: ctx.substitute(&check.remediation),
        audit: ctx.substitute(&sa.audit),
        audit_env: ctx.substitute(&audit_env),
        audit_config: ctx.substitute(&sa.audit_config),
        is_multiple: sa.use_multiple_values,
        shell: true,
        actual_value: String::new(),
        expected_result: String::new(),
        reason: String::new(),
        evidence: Vec::new(),
        defined_at: check.location.to_string(),
    };
    let fail_or_warn = if check.scored {
        Status::Fail
    } else {
        Status::Warn
    };

    if check.scored && check_type.trim().is_empty() && sa.tests.is_none() {
        r.status = Status::Warn;
        r.reason = "There are no tests".to_string();
        return r;
    }
    if check_type == "skip" {
        r.status = Status::Info;
        r.reason = "Test marked as skip".to_string();
        return r;
    }
    if check_type == "manual" {
        r.status = Status::Warn;
        r.reason = "Test marked as a manual test".to_string();
        return r;
    }
    let tests = match &sa.tests {
        Some(t) if !t.items.is_empty() => t,
        _ => {
            r.status = fail_or_warn;
            r.reason = "No tests defined".to_string();
            return r;
        }
    };

    // audit_env first, then audit, then audit_config; the first that fails
    // ends the check (kube-bench's runAuditCommands).
    let commands = [r.audit_env.clone(), r.audit.clone(), r.audit_config.clone()];
    let mut got = Vec::new();
    for command in &commands {
        match run_command(facts, command, &mut r.evidence) {
            Ran::Output(o) => got.push(o),
            Ran::Failed(why) => {
                r.status = fail_or_warn;
                r.reason = why;
                return r;
            }
            Ran::NotRun(why) => {
                r.status = Status::Warn;
                r.reason = why;
                return r;
            }
        }
    }

    let mut got = got.into_iter();
    let outputs = AuditOutputs {
        env: got.next().unwrap_or_default(),
        audit: got.next().unwrap_or_default(),
        config: got.next().unwrap_or_default(),
    };
    let items: Vec<ShellItem> = tests
        .items
        .iter()
        .map(|i| ShellItem {
            flag: ctx.substitute(&i.flag),
            path: ctx.substitute(&i.path),
            env: ctx.substitute(&i.env),
            set: i.set,
            op: i.op.clone(),
            value: ctx.substitute(&i.value),
        })
        .collect();
    let has_config = !sa.audit_config.is_empty();
    match execute_tests(
        &items,
        &tests.bin_op,
        has_config,
        sa.use_multiple_values,
        &outputs,
    ) {
        Ok(t) => {
            r.status = if t.passed { Status::Pass } else { fail_or_warn };
            r.actual_value = t.actual;
            r.expected_result = t.expected;
        }
        Err((t, why)) => {
            r.status = fail_or_warn;
            r.actual_value = t.actual;
            r.expected_result = t.expected;
            r.reason = why;
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn variables_are_substituted_in_order_quoting_several_words() {
        let v = vars(&[
            ("apiserverbin", "hyperkube apiserver"),
            ("kubeletbin", ""),
            (
                "apiserverconf",
                "/etc/kubernetes/manifests/kube-apiserver.yaml",
            ),
        ]);
        assert_eq!(
            substitute("ps -ef | grep $apiserverbin; stat $apiserverconf $kubeletbin", &v),
            "ps -ef | grep 'hyperkube apiserver'; stat /etc/kubernetes/manifests/kube-apiserver.yaml $kubeletbin"
        );
    }

    #[test]
    fn the_generated_audit_env_reads_the_process_environment() {
        assert_eq!(
            generated_audit_env("etcd"),
            r#"cat "/proc/$(/bin/ps -C etcd -o pid= | tr -d ' ')/environ" | tr '\0' '\n'"#
        );
    }
}
