//! kube-bench's text layout, byte for byte (its cmd/common.go): `[PASS]
//! 1.1.1 ...` per check, then `== Remediations <target> ==`, `== Summary
//! <target> ==` and `== Summary total ==`; only the `[STATE] ` tags and
//! the section headers coloured, when asked. `--include-test-output` adds,
//! as kube-bench does, the actual value of each FAIL, and for typed checks
//! kubecis's reason and evidence under each FAIL and WARN.

use super::{RunReport, TextOptions};
use crate::evaluate::{CheckResult, ControlsResult, Status, Summary};
use colored::{ColoredString, Colorize};
use std::fmt::Write;

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let c: ColoredString = match status {
        Status::Pass => text.green(),
        Status::Fail => text.red(),
        Status::Warn => text.yellow(),
        Status::Info => text.blue(),
    };
    c.to_string()
}

/// `[STATE] ` (coloured) and the message (not).
fn state_line(out: &mut String, status: Status, message: &str, color: bool) {
    out.push_str(&paint(&format!("[{status}] "), status, color));
    out.push_str(message);
    out.push('\n');
}

fn summary_block(out: &mut String, name: &str, s: &Summary, color: bool) {
    let worst = if s.fail > 0 {
        Status::Fail
    } else if s.warn > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    out.push_str(&paint(&format!("== Summary {name} ==\n"), worst, color));
    let _ = writeln!(
        out,
        "{} checks PASS\n{} checks FAIL\n{} checks WARN\n{} checks INFO\n",
        s.pass, s.fail, s.warn, s.info
    );
}

/// Did the audit not run? kube-bench's rule for shell checks: any reason
/// on a check that is not manual. Typed checks give a reason for every
/// verdict, so only theirs that say the audit could not be done count.
fn audit_did_not_run(r: &CheckResult) -> bool {
    if r.reason.is_empty() || r.kind == "manual" {
        return false;
    }
    r.shell || r.reason.starts_with("could not be audited")
}

fn test_output(out: &mut String, r: &CheckResult) {
    if r.status == Status::Fail && !r.actual_value.is_empty() {
        for row in r.actual_value.split('\n') {
            let _ = writeln!(out, "\t {row}");
        }
    }
    if !r.shell && matches!(r.status, Status::Fail | Status::Warn) {
        if !r.reason.is_empty() {
            let _ = writeln!(out, "\t reason: {}", r.reason);
        }
        for e in &r.evidence {
            let _ = writeln!(out, "\t evidence: {}", e.detail);
        }
    }
}

fn controls_block(out: &mut String, c: &ControlsResult, opts: &TextOptions) {
    if !opts.no_results {
        state_line(
            out,
            Status::Info,
            &format!("{} {}", c.id, c.text),
            opts.color,
        );
        for g in &c.groups {
            state_line(
                out,
                Status::Info,
                &format!("{} {}", g.id, g.text),
                opts.color,
            );
            for r in &g.checks {
                state_line(out, r.status, &format!("{} {}", r.id, r.text), opts.color);
                if opts.include_test_output {
                    test_output(out, r);
                }
            }
        }
        out.push('\n');
    }

    if !opts.no_remediations && (c.summary.fail > 0 || c.summary.warn > 0) {
        out.push_str(&paint(
            &format!("== Remediations {} ==\n", c.target),
            Status::Warn,
            opts.color,
        ));
        for r in c.groups.iter().flat_map(|g| &g.checks) {
            match r.status {
                Status::Fail => {
                    let _ = writeln!(out, "{} {}", r.id, r.remediation);
                }
                Status::Warn if audit_did_not_run(r) => {
                    let _ = writeln!(out, "{} audit test did not run: {}", r.id, r.reason);
                }
                Status::Warn => {
                    let _ = writeln!(out, "{} {}", r.id, r.remediation);
                }
                _ => {}
            }
        }
        out.push('\n');
    }

    if !opts.no_summary {
        summary_block(out, &c.target, &c.summary, opts.color);
    }
}

/// The whole text report.
pub fn render(report: &RunReport, opts: &TextOptions) -> String {
    let mut out = String::new();
    for c in &report.controls {
        controls_block(&mut out, c, opts);
    }
    if !opts.no_totals {
        summary_block(&mut out, "total", &report.totals(), opts.color);
    }
    out
}
