//! What shell audits ask of the node: running a command (each distinct
//! command once per audit, through the `ShellRunner`), and the values of a
//! kube-bench cfg's `$apiserverbin`-style variables, found the way
//! kube-bench finds them (the first listed program that runs, the first
//! listed file that exists) but by reading processes and files through the
//! `Host` instead of running `ps`.

use super::host::ReadError;
use super::node::{NodeFacts, ShellResult};
use super::shell::ShellError;
use crate::benchmark::model::{ShellVariable, VariableSource};
use regex::Regex;
use std::rc::Rc;

/// The kernel keeps the first 15 bytes of a program's name, and `ps -C`
/// compares the whole name it is given with them.
const COMM_LEN: usize = 15;

fn comm_of(argv0: &str) -> &str {
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    let mut end = base.len().min(COMM_LEN);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    &base[..end]
}

impl NodeFacts<'_> {
    /// Run a shell audit (already trimmed and substituted).
    pub fn shell_audit(&self, script: &str) -> ShellResult {
        if let Some(r) = self.shell_runs.borrow().get(script) {
            return r.clone();
        }
        let result = match self.shell {
            None => Err(ShellError::Refused(
                "this audit has no way to run shell commands".to_string(),
            )),
            Some(runner) => runner.run(script).map(Rc::new),
        };
        self.shell_runs
            .borrow_mut()
            .insert(script.to_string(), result.clone());
        result
    }

    /// The value of each variable, in the order given; an empty value means
    /// the variable is left as written.
    pub fn shell_variables(&self, vars: &[ShellVariable]) -> Vec<(String, String)> {
        vars.iter()
            .map(|v| {
                let value = match &v.source {
                    VariableSource::Binary { candidates } => self
                        .running_binary(candidates)
                        .unwrap_or_else(|| v.component.clone()),
                    VariableSource::File {
                        candidates,
                        default,
                    } => self
                        .first_existing(candidates)
                        .or_else(|| default.clone())
                        .unwrap_or_else(|| v.component.clone()),
                };
                (v.name.clone(), value)
            })
            .collect()
    }

    /// The first candidate that runs: a process whose name is the
    /// candidate's first word and whose command line starts with the whole
    /// candidate (after an optional directory).
    fn running_binary(&self, candidates: &[String]) -> Option<String> {
        let procs = self.processes().as_ref().ok()?;
        for cand in candidates {
            let bin = cand.trim_matches(['\'', '"']);
            let Some(first) = bin.split_whitespace().next() else {
                continue;
            };
            let Ok(re) = Regex::new(&format!(r"^(\S*/)*{}", regex::escape(bin))) else {
                continue;
            };
            let runs = procs.processes.iter().any(|p| {
                p.argv
                    .first()
                    .is_some_and(|a0| comm_of(a0) == first && re.is_match(&p.argv.join(" ")))
            });
            if runs {
                return Some(cand.clone());
            }
        }
        None
    }

    /// The first path that exists. One that cannot be examined (permission
    /// denied) counts as existing: the audit that uses it then says why.
    fn first_existing(&self, candidates: &[String]) -> Option<String> {
        candidates
            .iter()
            .find(|c| !matches!(self.host().stat(c, true), Err(ReadError::NotFound)))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_names_are_cut_like_the_kernel_cuts_them() {
        assert_eq!(
            comm_of("/usr/bin/kube-controller-manager"),
            "kube-controller"
        );
        assert_eq!(comm_of("kubelet"), "kubelet");
    }
}
