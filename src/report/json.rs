//! kube-bench's JSON shape (`Controls`, `Totals`, `tests`, `results`,
//! `test_number`, ...), which existing consumers parse, plus a `kubecis`
//! object (tool version, host, detection, chosen targets) and per-check
//! `evidence` and `defined_at`. The schema is docs/report.schema.json.

use super::RunReport;
use crate::evaluate::{CheckResult, ControlsResult, GroupResult};
use serde::Serialize;
use serde_json::{json, Value};

fn check_json(r: &CheckResult) -> Value {
    let mut test_info = Vec::new();
    if !r.remediation.is_empty() {
        test_info.push(r.remediation.clone());
    }
    json!({
        "test_number": r.id,
        "test_desc": r.text,
        "audit": r.audit,
        "AuditEnv": "",
        "AuditConfig": "",
        "type": r.kind,
        "remediation": r.remediation,
        "test_info": test_info,
        "status": r.status,
        "actual_value": r.actual_value,
        "scored": r.scored,
        "IsMultiple": false,
        "expected_result": r.expected_result,
        "reason": r.reason,
        "evidence": r.evidence,
        "defined_at": r.defined_at,
    })
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
    let mut v = json!({
        "id": c.id,
        "version": c.version,
        "detected_version": detected.clone().unwrap_or_default(),
        "text": c.text,
        "node_type": c.target,
        "tests": c.groups.iter().map(group_json).collect::<Vec<_>>(),
        "total_pass": c.summary.pass,
        "total_fail": c.summary.fail,
        "total_warn": c.summary.warn,
        "total_info": c.summary.info,
    });
    if detected.is_none() {
        if let Some(obj) = v.as_object_mut() {
            obj.remove("detected_version");
        }
    }
    v
}

#[derive(Serialize)]
struct Totals {
    total_pass: usize,
    total_fail: usize,
    total_warn: usize,
    total_info: usize,
}

/// The JSON document for a run.
pub fn render(report: &RunReport) -> Value {
    let t = report.totals();
    let detected = report
        .detection
        .kubernetes_version
        .as_ref()
        .map(|v| v.trim_start_matches('v').to_string());
    json!({
        "Controls": report.controls.iter().map(|c| controls_json(c, &detected)).collect::<Vec<_>>(),
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
