//! kube-bench's JSON, field for field (its `check.Check`, `Group`,
//! `Controls` and `OverallControls` as Go's encoding/json writes them:
//! the same names and order, `reason` left out when empty, `tests: null`
//! for a target none of whose checks was selected, `<`, `>`, `&` escaped),
//! with `--nototals` the bare list of targets. kubecis adds, after
//! kube-bench's fields, per check `evidence` and `defined_at`, and a
//! top-level `kubecis` object (tool version, host, what was audited, the
//! cfg, the benchmark and how it was detected, the targets chosen and why).
//! The schema is docs/report.schema.json.

use super::RunReport;
use crate::evaluate::{CheckResult, ControlsResult, GroupResult};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// One check as kube-bench's JSON has it, then kubecis's fields.
pub fn check_json(r: &CheckResult) -> Value {
    let mut m = Map::new();
    m.insert("test_number".into(), json!(r.id));
    m.insert("test_desc".into(), json!(r.text));
    m.insert("audit".into(), json!(r.audit));
    m.insert("AuditEnv".into(), json!(r.audit_env));
    m.insert("AuditConfig".into(), json!(r.audit_config));
    m.insert("type".into(), json!(r.kind));
    m.insert("remediation".into(), json!(r.remediation));
    // kube-bench appends the remediation once each run, empty or not.
    m.insert("test_info".into(), json!([r.remediation]));
    m.insert("status".into(), json!(r.status));
    m.insert("actual_value".into(), json!(r.actual_value));
    m.insert("scored".into(), json!(r.scored));
    m.insert("IsMultiple".into(), json!(r.is_multiple));
    m.insert("expected_result".into(), json!(r.expected_result));
    if !r.reason.is_empty() {
        m.insert("reason".into(), json!(r.reason));
    }
    m.insert("evidence".into(), json!(r.evidence));
    m.insert("defined_at".into(), json!(r.defined_at));
    Value::Object(m)
}

fn group_json(g: &GroupResult) -> Value {
    json!({
        "section": g.id,
        "type": "",
        "pass": g.summary.pass,
        "fail": g.summary.fail,
        "warn": g.summary.warn,
        "info": g.summary.info,
        "desc": g.text,
        "results": g.checks.iter().map(check_json).collect::<Vec<_>>(),
    })
}

fn controls_json(c: &ControlsResult, detected: &Option<String>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("version".into(), json!(c.version));
    if let Some(d) = detected {
        m.insert("detected_version".into(), json!(d));
    }
    m.insert("text".into(), json!(c.text));
    m.insert("node_type".into(), json!(c.target));
    m.insert(
        "tests".into(),
        if c.groups.is_empty() {
            Value::Null
        } else {
            Value::Array(c.groups.iter().map(group_json).collect())
        },
    );
    m.insert("total_pass".into(), json!(c.summary.pass));
    m.insert("total_fail".into(), json!(c.summary.fail));
    m.insert("total_warn".into(), json!(c.summary.warn));
    m.insert("total_info".into(), json!(c.summary.info));
    Value::Object(m)
}

#[derive(Serialize)]
struct Totals {
    total_pass: usize,
    total_fail: usize,
    total_warn: usize,
    total_info: usize,
}

/// The JSON document for a run; `no_totals` gives kube-bench's
/// `--nototals` shape, the list of targets alone.
pub fn render(report: &RunReport, no_totals: bool) -> Value {
    let t = report.totals();
    let detected = report
        .detection
        .kubernetes_version
        .as_ref()
        .map(|v| v.trim_start_matches('v').to_string());
    let controls: Vec<Value> = report
        .controls
        .iter()
        .map(|c| controls_json(c, &detected))
        .collect();
    if no_totals {
        return Value::Array(controls);
    }
    json!({
        "Controls": controls,
        "Totals": Totals { total_pass: t.pass, total_fail: t.fail, total_warn: t.warn, total_info: t.info },
        "kubecis": {
            "version": report.tool_version,
            "hostname": report.hostname,
            "host": report.host,
            "cfg": report.cfg,
            "benchmark": report.detection.benchmark,
            "detection": report.detection,
            "targets": report.targets,
        },
    })
}

/// The report as kube-bench prints it: compact, Go's escaping, a newline.
pub fn to_text(report: &RunReport, no_totals: bool) -> Result<String, serde_json::Error> {
    let mut s = crate::go_text::to_json(&render(report, no_totals))?;
    s.push('\n');
    Ok(s)
}
