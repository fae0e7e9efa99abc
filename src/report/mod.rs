//! Turns results into what the user reads: kube-bench's text layout or its
//! JSON shape (plus kubecis's evidence and detection). The only stage that
//! writes user-facing output.

pub mod json;
pub mod junit;
pub mod text;

use crate::detect::{Detection, TargetChoice};
use crate::evaluate::{ControlsResult, Summary};

/// Everything a report needs about one run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub tool_version: String,
    pub hostname: Option<String>,
    pub host: String,
    pub cfg: String,
    pub detection: Detection,
    pub targets: Vec<TargetChoice>,
    pub controls: Vec<ControlsResult>,
}

impl RunReport {
    pub fn totals(&self) -> Summary {
        let mut t = Summary::default();
        for c in &self.controls {
            t.merge(&c.summary);
        }
        t
    }
}

/// What the text report leaves out, from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
    pub no_results: bool,
    pub no_remediations: bool,
    pub no_summary: bool,
    pub no_totals: bool,
    pub include_test_output: bool,
}
