//! Runs checks against node facts: evaluates test items with the compare
//! ops, combines them with bin_op in three-valued logic (a fact that could
//! not be read is "unknown", never false), and turns the outcome into a
//! verdict. Reads the node only through `NodeFacts`.

pub mod compare;
pub mod kube_jsonpath;
pub mod outcome;
pub mod shell;

use crate::benchmark::model::{
    AbsentVerdict, Audit, BinOp, Check, CheckKind, Controls, FileRef, StatField, TestItem,
};
use crate::collect::node::{FileFact, FileSet, Lookup, NodeFacts, Presence};
use crate::collect::{Evidence, EvidenceSource, FileStat};
pub use outcome::*;

/// Which checks to run and how, from the command line.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Only these check IDs (empty: all).
    pub checks: Vec<String>,
    /// Only these group IDs (empty: all).
    pub groups: Vec<String>,
    /// Check or group IDs reported INFO without running.
    pub skip: Vec<String>,
    /// Run scored checks (kube-bench's `--scored`, true unless turned off).
    pub scored: bool,
    /// Run unscored checks (kube-bench's `--unscored`, likewise).
    pub unscored: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            checks: Vec::new(),
            groups: Vec::new(),
            skip: Vec::new(),
            scored: true,
            unscored: true,
        }
    }
}

impl Selection {
    fn includes(&self, group_id: &str, check: &Check) -> bool {
        if !self.checks.is_empty() && !self.checks.iter().any(|c| c == &check.id) {
            return false;
        }
        if !self.groups.is_empty() && !self.groups.iter().any(|g| g == group_id) {
            return false;
        }
        (self.scored && check.scored) || (self.unscored && !check.scored)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Truth {
    Holds,
    Fails,
    Unknown(String),
}

struct ItemOutcome {
    truth: Truth,
    actual: String,
    expected: String,
    evidence: Option<Evidence>,
}

fn combine(op: BinOp, truths: impl Iterator<Item = Truth>) -> Truth {
    let mut unknown = None;
    let mut any_hold = false;
    let mut any_fail = false;
    for t in truths {
        match t {
            Truth::Holds => any_hold = true,
            Truth::Fails => any_fail = true,
            Truth::Unknown(r) => {
                unknown.get_or_insert(r);
            }
        }
    }
    match op {
        BinOp::And if any_fail => Truth::Fails,
        BinOp::Or if any_hold => Truth::Holds,
        _ => match unknown {
            Some(r) => Truth::Unknown(r),
            None if op == BinOp::And => Truth::Holds,
            None => Truth::Fails,
        },
    }
}

fn joiner(op: BinOp) -> &'static str {
    match op {
        BinOp::And => " AND ",
        BinOp::Or => " OR ",
    }
}

fn presence_expectation(item: &TestItem, subject: &str) -> String {
    match (&item.compare, item.set) {
        (_, false) => format!("'{subject}' is not present"),
        (Some(c), true) => compare::expectation(subject, c),
        (None, true) => format!("'{subject}' is present"),
    }
}

fn evaluate_setting_item(facts: &NodeFacts, component: &str, item: &TestItem) -> ItemOutcome {
    let subject = item.query.label();
    let expected = presence_expectation(item, &subject);
    match facts.setting(component, &item.query) {
        Lookup::Found(v) => {
            // An empty value (`--client-ca-file=`, `clientCAFile: ""` in a
            // kubelet drop-in) leaves the setting unset to the component:
            // the kubelet and the control plane components treat an empty
            // path or name as "none given". So it neither satisfies "is
            // present" nor breaks "is not present".
            let given = v.explicit && !v.value.is_empty();
            let truth = if !item.set {
                if given {
                    Truth::Fails
                } else {
                    Truth::Holds
                }
            } else {
                match &item.compare {
                    Some(c) if !compare::holds(c, &v.value) => Truth::Fails,
                    None if v.value.is_empty() => Truth::Fails,
                    _ => Truth::Holds,
                }
            };
            let origin = if v.explicit { "" } else { " (default)" };
            ItemOutcome {
                truth,
                actual: format!("{subject}={}{origin}", v.value),
                expected,
                evidence: Some(v.evidence),
            }
        }
        Lookup::NotSet(why) => ItemOutcome {
            truth: if item.set { Truth::Fails } else { Truth::Holds },
            actual: format!("{subject} is not set"),
            expected,
            evidence: Some(Evidence::new(EvidenceSource::NotSet, why)),
        },
        Lookup::Unknown(why) | Lookup::Absent(why) => ItemOutcome {
            truth: Truth::Unknown(why.clone()),
            actual: String::new(),
            expected,
            evidence: None,
        },
    }
}

/// A stat field as text; an owner whose name cannot be looked up (the
/// node's `/etc/passwd` or `/etc/group` unreadable) is an error.
fn stat_value(facts: &NodeFacts, field: StatField, st: &FileStat) -> Result<String, String> {
    let accounts = facts.accounts();
    Ok(match field {
        StatField::Mode => format!("{:o}", st.mode & 0o7777),
        StatField::Owner => format!("{}:{}", accounts.user(st.uid)?, accounts.group(st.gid)?),
        StatField::User => accounts.user(st.uid)?,
        StatField::Group => accounts.group(st.gid)?,
    })
}

fn evaluate_file_items(
    facts: &NodeFacts,
    check: &Check,
    file: &FileFact,
) -> (Truth, Vec<String>, Evidence) {
    let st = match &file.stat {
        Ok(st) => st,
        Err(e) => {
            let why = format!("{} {e}", file.path);
            return (
                Truth::Unknown(why.clone()),
                vec![],
                Evidence::new(EvidenceSource::File, why),
            );
        }
    };
    let mut truths = Vec::new();
    let mut actuals = Vec::new();
    for item in &check.tests.items {
        let Some(field) = item.stat else { continue };
        let value = match stat_value(facts, field, st) {
            Ok(v) => v,
            Err(why) => {
                truths.push(Truth::Unknown(format!("{}: {why}", file.path)));
                continue;
            }
        };
        let truth = match &item.compare {
            Some(c) if !compare::holds(c, &value) => Truth::Fails,
            _ => Truth::Holds,
        };
        truths.push(truth);
        actuals.push(format!("{}={value}", field.name()));
    }
    let truth = combine(check.tests.bin_op, truths.into_iter());
    let mut ev = Evidence::new(
        EvidenceSource::File,
        format!(
            "{}: mode {:o}, owner {}",
            file.path,
            st.mode,
            facts.accounts().owner_text(st.uid, st.gid)
        ),
    );
    ev.path = Some(file.path.clone());
    ev.value = Some(actuals.join(" "));
    (truth, actuals, ev)
}

fn describe_ref(fref: &FileRef) -> String {
    match fref {
        FileRef::Named {
            component,
            name,
            filter,
        } => match filter {
            Some(f) => format!("{component} {name} files matching {}", f.pattern),
            None => format!("{component} {name} file"),
        },
        FileRef::Paths(p) => p.join(", "),
        FileRef::Dir { dir, filter } => format!("{} in {dir}", filter.pattern),
    }
}

/// What evaluating the audit produced before it becomes a verdict.
enum AuditOutcome {
    Absent(String),
    Unknown(String),
    Evaluated {
        truth: Truth,
        actual: String,
        expected: String,
        evidence: Vec<Evidence>,
        how: String,
    },
}

fn audit_outcome(facts: &NodeFacts, check: &Check, audit: &Audit) -> AuditOutcome {
    let tests = &check.tests;
    let expected_of = |subject: &dyn Fn(&TestItem) -> String| {
        tests
            .items
            .iter()
            .map(|i| presence_expectation(i, &subject(i)))
            .collect::<Vec<_>>()
            .join(joiner(tests.bin_op))
    };
    match audit {
        Audit::Shell(_) => {
            unreachable!("evaluate_check hands shell audits to shell::evaluate_shell_check")
        }
        Audit::Settings { component } => {
            match facts.presence(component) {
                Presence::Absent(why) => return AuditOutcome::Absent(why),
                Presence::Unknown(why) => return AuditOutcome::Unknown(why),
                Presence::Running(_) => {}
            }
            let outcomes: Vec<ItemOutcome> = tests
                .items
                .iter()
                .map(|i| evaluate_setting_item(facts, component, i))
                .collect();
            let truth = combine(tests.bin_op, outcomes.iter().map(|o| o.truth.clone()));
            let mut actual: Vec<String> = outcomes
                .iter()
                .map(|o| o.actual.clone())
                .filter(|a| !a.is_empty())
                .collect();
            actual.dedup();
            AuditOutcome::Evaluated {
                truth,
                actual: actual.join("; "),
                expected: outcomes
                    .iter()
                    .map(|o| o.expected.clone())
                    .collect::<Vec<_>>()
                    .join(joiner(tests.bin_op)),
                evidence: {
                    // Two items asking about the same setting (`x` or not
                    // set) share one piece of evidence; show it once.
                    let mut ev: Vec<Evidence> = Vec::new();
                    for e in outcomes.into_iter().filter_map(|o| o.evidence) {
                        if !ev.contains(&e) {
                            ev.push(e);
                        }
                    }
                    ev
                },
                how: format!("effective settings of {component}"),
            }
        }
        Audit::File(fref) => match facts.files(fref) {
            FileSet::Absent(why) => AuditOutcome::Absent(why),
            FileSet::Unknown(why) => AuditOutcome::Unknown(why),
            FileSet::Files { how, files } => {
                let mut truths = Vec::new();
                let mut evidence = Vec::new();
                let mut actual = Vec::new();
                for f in &files {
                    let (t, a, ev) = evaluate_file_items(facts, check, f);
                    if files.len() > 1 {
                        actual.push(format!("{}: {}", f.path, a.join(" ")));
                    } else {
                        actual.push(a.join(" "));
                    }
                    // Failing files first, so the reason names them.
                    if t == Truth::Holds {
                        evidence.push(ev);
                    } else {
                        evidence.insert(truths.iter().filter(|t| **t != Truth::Holds).count(), ev);
                    }
                    truths.push(t);
                }
                AuditOutcome::Evaluated {
                    truth: combine(BinOp::And, truths.into_iter()),
                    actual: actual.join("\n"),
                    expected: expected_of(&|i| {
                        i.stat.map(|s| s.name().to_string()).unwrap_or_default()
                    }),
                    evidence,
                    how: format!("{} ({how})", describe_ref(fref)),
                }
            }
        },
        Audit::Document(fref) => match facts.files(fref) {
            FileSet::Absent(why) => AuditOutcome::Absent(why),
            FileSet::Unknown(why) => AuditOutcome::Unknown(why),
            FileSet::Files { how, files } => {
                let mut truths = Vec::new();
                let mut evidence = Vec::new();
                let mut actual = Vec::new();
                for f in &files {
                    let doc = match facts.document(&f.path) {
                        Ok(d) => d,
                        Err(e) => {
                            truths.push(Truth::Unknown(e));
                            continue;
                        }
                    };
                    let mut item_truths = Vec::new();
                    for item in &tests.items {
                        let Some(path) = &item.query.path else {
                            continue;
                        };
                        let found = path.lookup_text(&doc.doc);
                        let t = match (&found, item.set, &item.compare) {
                            (None, set, _) => {
                                if set {
                                    Truth::Fails
                                } else {
                                    Truth::Holds
                                }
                            }
                            (Some(_), false, _) => Truth::Fails,
                            (Some(v), true, Some(c)) => {
                                if compare::holds(c, v) {
                                    Truth::Holds
                                } else {
                                    Truth::Fails
                                }
                            }
                            (Some(_), true, None) => Truth::Holds,
                        };
                        let shown = found.clone().unwrap_or_else(|| "(absent)".to_string());
                        actual.push(format!("{path}={shown}"));
                        let mut ev = Evidence::new(
                            EvidenceSource::Document,
                            format!("{path}: {shown} in {}", f.path),
                        );
                        ev.path = Some(f.path.clone());
                        ev.key = Some(path.to_string());
                        ev.value = found;
                        evidence.push(ev);
                        item_truths.push(t);
                    }
                    truths.push(combine(tests.bin_op, item_truths.into_iter()));
                }
                AuditOutcome::Evaluated {
                    truth: combine(BinOp::And, truths.into_iter()),
                    actual: actual.join("; "),
                    expected: expected_of(&|i| i.query.label()),
                    evidence,
                    how: format!("{} ({how})", describe_ref(fref)),
                }
            }
        },
    }
}

/// The check's `applies_when` condition, when it does not hold (or cannot
/// be decided), stops the audit before it starts: not applicable is INFO,
/// undecidable is WARN, never FAIL.
fn applicability(facts: &NodeFacts, check: &Check) -> Option<AuditOutcome> {
    let cond = check.applies_when.as_ref()?;
    match facts.presence(&cond.component) {
        Presence::Running(_) => {}
        Presence::Absent(why) => return Some(AuditOutcome::Absent(why)),
        Presence::Unknown(why) => return Some(AuditOutcome::Unknown(why)),
    }
    let o = evaluate_setting_item(facts, &cond.component, &cond.item);
    let found = o.evidence.map(|e| e.detail).unwrap_or(o.actual);
    match o.truth {
        Truth::Holds => None,
        Truth::Fails => Some(AuditOutcome::Absent(format!(
            "the check applies only where {}; found {found}",
            o.expected
        ))),
        Truth::Unknown(why) => Some(AuditOutcome::Unknown(format!(
            "cannot tell whether the check applies here: {why}"
        ))),
    }
}

/// Run one check.
pub fn evaluate_check(
    facts: &NodeFacts,
    check: &Check,
    group_skipped: bool,
    user_skip: bool,
) -> CheckResult {
    if let Some(Audit::Shell(sa)) = &check.audit {
        let ctx = shell::ShellContext::default();
        return shell::evaluate_shell_check(facts, check, sa, group_skipped || user_skip, &ctx);
    }
    let kind = match check.kind {
        CheckKind::Audited => "",
        CheckKind::Manual => "manual",
        CheckKind::Skip => "skip",
    };
    let mut r = CheckResult {
        id: check.id.clone(),
        text: check.text.clone(),
        status: Status::Info,
        scored: check.scored,
        kind: kind.to_string(),
        remediation: check.remediation.clone(),
        audit: String::new(),
        audit_env: String::new(),
        audit_config: String::new(),
        is_multiple: false,
        shell: false,
        actual_value: String::new(),
        expected_result: String::new(),
        reason: String::new(),
        evidence: Vec::new(),
        defined_at: check.location.to_string(),
    };
    if user_skip {
        r.reason = "skipped with --skip".to_string();
        return r;
    }
    if group_skipped || check.kind == CheckKind::Skip {
        r.reason = "marked type: skip in the cfg".to_string();
        return r;
    }
    if check.kind == CheckKind::Manual {
        // kube-bench reports manual checks WARN with no reason; the
        // remediation says what to verify by hand.
        r.status = Status::Warn;
        return r;
    }
    let Some(audit) = &check.audit else {
        r.status = Status::Warn;
        r.reason = "the check has no audit".to_string();
        return r;
    };
    let outcome = match applicability(facts, check) {
        Some(o) => o,
        None => audit_outcome(facts, check, audit),
    };
    match outcome {
        AuditOutcome::Absent(why) => {
            r.status = match check.if_absent {
                AbsentVerdict::Info => Status::Info,
                AbsentVerdict::Pass => Status::Pass,
            };
            r.reason = format!("not applicable on this node: {why}");
            r.audit = match audit {
                Audit::Settings { component } => format!("effective settings of {component}"),
                Audit::File(f) | Audit::Document(f) => describe_ref(f),
                Audit::Shell(s) => s.audit.clone(),
            };
        }
        AuditOutcome::Unknown(why) => {
            r.status = Status::Warn;
            r.reason = format!("could not be audited: {why}");
        }
        AuditOutcome::Evaluated {
            truth,
            actual,
            expected,
            evidence,
            how,
        } => {
            r.audit = how;
            r.actual_value = actual;
            r.expected_result = expected;
            r.evidence = evidence;
            match truth {
                Truth::Holds => {
                    r.status = Status::Pass;
                    r.reason = r
                        .evidence
                        .first()
                        .map(|e| e.detail.clone())
                        .unwrap_or_default();
                }
                Truth::Fails => {
                    r.status = if check.scored {
                        Status::Fail
                    } else {
                        Status::Warn
                    };
                    let first = r
                        .evidence
                        .first()
                        .map(|e| e.detail.clone())
                        .unwrap_or_default();
                    r.reason = format!("expected {}; found {first}", r.expected_result);
                }
                Truth::Unknown(why) => {
                    r.status = Status::Warn;
                    r.reason = format!("could not be audited: {why}");
                }
            }
        }
    }
    r
}

/// Run the selected checks of one target.
pub fn evaluate_controls(
    facts: &NodeFacts,
    controls: &Controls,
    sel: &Selection,
) -> ControlsResult {
    let mut summary = Summary::default();
    let mut groups = Vec::new();
    let has_shell = controls
        .groups
        .iter()
        .flat_map(|g| &g.checks)
        .any(|c| matches!(c.audit, Some(Audit::Shell(_))));
    let ctx = if has_shell {
        shell::ShellContext::for_controls(facts, controls)
    } else {
        shell::ShellContext::default()
    };
    for g in &controls.groups {
        let mut gsum = Summary::default();
        let mut checks = Vec::new();
        for c in &g.checks {
            if !sel.includes(&g.id, c) {
                continue;
            }
            let user_skip = sel.skip.iter().any(|s| s == &c.id || s == &g.id);
            let r = match &c.audit {
                Some(Audit::Shell(sa)) => {
                    shell::evaluate_shell_check(facts, c, sa, g.skip || user_skip, &ctx)
                }
                _ => evaluate_check(facts, c, g.skip, user_skip),
            };
            gsum.add(r.status);
            checks.push(r);
        }
        if checks.is_empty() {
            continue;
        }
        summary.merge(&gsum);
        groups.push(GroupResult {
            id: g.id.clone(),
            text: ctx.substitute(&g.text),
            checks,
            summary: gsum,
        });
    }
    ControlsResult {
        id: controls.id.clone(),
        version: controls.version.clone(),
        text: ctx.substitute(&controls.text),
        target: controls.target.clone(),
        groups,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_valued_combination() {
        use Truth::*;
        let u = || Unknown("x".into());
        assert_eq!(combine(BinOp::And, [Holds, Holds].into_iter()), Holds);
        assert_eq!(combine(BinOp::And, [Holds, Fails].into_iter()), Fails);
        assert_eq!(combine(BinOp::And, [u(), Fails].into_iter()), Fails);
        assert_eq!(combine(BinOp::And, [Holds, u()].into_iter()), u());
        assert_eq!(combine(BinOp::Or, [Fails, Holds].into_iter()), Holds);
        assert_eq!(combine(BinOp::Or, [u(), Holds].into_iter()), Holds);
        assert_eq!(combine(BinOp::Or, [u(), Fails].into_iter()), u());
        assert_eq!(combine(BinOp::Or, [Fails, Fails].into_iter()), Fails);
    }
}
