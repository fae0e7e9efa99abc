//! kube-bench's text layout: `[PASS] 1.1.1 ...` per check, then
//! `== Remediations <target> ==`, `== Summary <target> ==` and
//! `== Summary total ==`, coloured only when asked.

use super::{RunReport, TextOptions};
use crate::evaluate::{ControlsResult, Status, Summary};
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

fn summary_block(out: &mut String, name: &str, s: &Summary, color: bool) {
    let worst = if s.fail > 0 {
        Status::Fail
    } else if s.warn > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    let _ = writeln!(
        out,
        "{}",
        paint(&format!("== Summary {name} =="), worst, color)
    );
    let _ = writeln!(
        out,
        "{} checks PASS\n{} checks FAIL\n{} checks WARN\n{} checks INFO\n",
        s.pass, s.fail, s.warn, s.info
    );
}

fn controls_block(out: &mut String, c: &ControlsResult, opts: &TextOptions) {
    let _ = writeln!(
        out,
        "{}",
        paint(
            &format!("[INFO] {} {}", c.id, c.text),
            Status::Info,
            opts.color
        )
    );
    for g in &c.groups {
        let _ = writeln!(
            out,
            "{}",
            paint(
                &format!("[INFO] {} {}", g.id, g.text),
                Status::Info,
                opts.color
            )
        );
        for r in &g.checks {
            let _ = writeln!(
                out,
                "{}",
                paint(
                    &format!("[{}] {} {}", r.status, r.id, r.text),
                    r.status,
                    opts.color
                )
            );
            if opts.include_test_output && matches!(r.status, Status::Fail | Status::Warn) {
                if !r.reason.is_empty() {
                    let _ = writeln!(out, "\t reason: {}", r.reason);
                }
                for e in &r.evidence {
                    let _ = writeln!(out, "\t evidence: {}", e.detail);
                }
            }
        }
    }
    let _ = writeln!(out);

    if !opts.no_remediations && (c.summary.fail > 0 || c.summary.warn > 0) {
        let _ = writeln!(
            out,
            "{}",
            paint(
                &format!("== Remediations {} ==", c.target),
                Status::Warn,
                opts.color
            )
        );
        for g in &c.groups {
            for r in &g.checks {
                match r.status {
                    Status::Fail => {
                        let _ = writeln!(out, "{} {}", r.id, r.remediation.trim_end());
                        if !r.reason.is_empty() {
                            let _ = writeln!(out, "Found: {}", r.reason);
                        }
                        let _ = writeln!(out);
                    }
                    Status::Warn => {
                        if !r.reason.is_empty()
                            && r.kind != "manual"
                            && r.reason.starts_with("could not be audited")
                        {
                            let _ =
                                writeln!(out, "{} audit test did not run: {}\n", r.id, r.reason);
                        } else {
                            let _ = writeln!(out, "{} {}\n", r.id, r.remediation.trim_end());
                        }
                    }
                    _ => {}
                }
            }
        }
        let _ = writeln!(out);
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
    if !opts.no_totals && report.controls.len() > 1 {
        summary_block(&mut out, "total", &report.totals(), opts.color);
    }
    out
}
