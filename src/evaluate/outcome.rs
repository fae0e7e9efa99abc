//! Verdicts and results: the plain types the evaluator produces and the
//! reporters print.

use crate::collect::Evidence;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "FAIL")]
    Fail,
    #[serde(rename = "WARN")]
    Warn,
    #[serde(rename = "INFO")]
    Info,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Info => "INFO",
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
}

impl Summary {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Warn => self.warn += 1,
            Status::Info => self.info += 1,
        }
    }

    pub fn merge(&mut self, other: &Summary) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.warn += other.warn;
        self.info += other.info;
    }
}

#[derive(Debug, Clone)]
pub struct CheckResult {
    pub id: String,
    pub text: String,
    pub status: Status,
    pub scored: bool,
    /// "", "manual" or "skip", as kube-bench reports it.
    pub kind: String,
    pub remediation: String,
    /// What was audited: in words, or the shell command as run.
    pub audit: String,
    /// Shell audits: the `audit_env` and `audit_config` commands as run.
    pub audit_env: String,
    pub audit_config: String,
    /// Shell audits: `use_multiple_values`.
    pub is_multiple: bool,
    /// Decided by kube-bench's semantics on a shell audit's output; the
    /// reports then follow kube-bench's output exactly for this check.
    pub shell: bool,
    pub actual_value: String,
    pub expected_result: String,
    /// Why the verdict is what it is.
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// file:line of the check definition.
    pub defined_at: String,
}

#[derive(Debug, Clone)]
pub struct GroupResult {
    pub id: String,
    pub text: String,
    pub checks: Vec<CheckResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone)]
pub struct ControlsResult {
    pub id: String,
    pub version: String,
    pub text: String,
    pub target: String,
    pub groups: Vec<GroupResult>,
    pub summary: Summary,
}
