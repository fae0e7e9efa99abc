//! Bad cfg and bad arguments end with exit status 2 and a message that
//! says where: one fixture per malformed-cfg case under
//! `tests/fixtures/cfg-malformed/<case>/` (its `README` says what is wrong,
//! `expected-errors` holds the exact lines, `$CFG` standing for the case's
//! directory), and a table of bad command lines.

mod common;
use common::*;

const SAMPLE: &str = "tests/fixtures/nodes/kubeadm-sample";

/// A line of the form `<file>:<line>: [check <id>: ]<message>`.
fn location_of(line: &str) -> Option<(&str, usize, Option<&str>)> {
    let (file, rest) = line.split_once(".yaml:")?;
    let (num, rest) = rest.split_once(": ")?;
    let check = rest
        .strip_prefix("check ")
        .and_then(|r| r.split_once(": "))
        .map(|(id, _)| id);
    Some((file, num.parse().ok()?, check))
}

#[test]
fn every_malformed_cfg_case_exits_2_naming_file_line_and_check() {
    let root = repo_path("tests/fixtures/cfg-malformed");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            case.join("README").is_file(),
            "{name}: says what is wrong in README"
        );
        let expected: Vec<String> = std::fs::read_to_string(case.join("expected-errors"))
            .unwrap()
            .lines()
            .map(|l| l.replace("$CFG", case.to_str().unwrap()))
            .collect();
        let o = run(&[
            "--config-dir",
            case.to_str().unwrap(),
            "--snapshot",
            SAMPLE,
            "--benchmark",
            "b",
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{name}: nothing is audited");
        let problems = if expected.len() == 1 {
            "1 problem".to_string()
        } else {
            format!("{} problems", expected.len())
        };
        let want = format!(
            "kubecis: error: the cfg is invalid ({problems}):\n{}\n",
            expected
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert_eq!(stderr(&o), want, "{name}");
        for line in &expected {
            // Only a file that does not exist has no line to point at.
            if line.ends_with(": file not found") {
                continue;
            }
            let (file, num, check) = location_of(line)
                .unwrap_or_else(|| panic!("{name}: {line:?} names no file and line"));
            assert!(num > 0, "{name}: {line}");
            // A mistake inside a check names the check.
            if file.ends_with("/b/master") && !line.contains(": type is ") {
                assert!(check.is_some(), "{name}: {line:?} names no check");
            }
        }
    }
}

#[test]
fn the_cases_cover_the_promised_mistakes() {
    for case in [
        "syntax-error",
        "unknown-key",
        "unknown-op",
        "bad-regex",
        "duplicate-check-id",
        "missing-target-file",
        "wrong-type",
        "unknown-component",
        "unknown-file-name",
        "bad-version-mapping-target",
    ] {
        let dir = repo_path(&format!("tests/fixtures/cfg-malformed/{case}"));
        assert!(dir.join("expected-errors").is_file(), "{case}");
    }
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    let missing = "/no/such/dir";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--no-such-flag"],
            "unexpected argument '--no-such-flag'",
        ),
        (
            vec!["--snapshot", SAMPLE, "--colour", "never"],
            "'--colour'",
        ),
        (
            vec![
                "--snapshot",
                SAMPLE,
                "--benchmark",
                "cis-1.12",
                "--version",
                "1.30",
            ],
            "cannot be used with",
        ),
        (
            vec!["--snapshot", SAMPLE, "--host-root", "/"],
            "cannot be used with",
        ),
        (
            vec!["--snapshot", SAMPLE, "--color", "sometimes"],
            "invalid value 'sometimes'",
        ),
        (
            vec!["--snapshot", SAMPLE, "--exit-code", "256"],
            "invalid value '256'",
        ),
        (
            vec!["--snapshot", SAMPLE, "--check", ""],
            "--check: an empty ID",
        ),
        (
            vec!["--snapshot", SAMPLE, "--check", "1.1.1,"],
            "--check: an empty ID",
        ),
        (
            vec!["--snapshot", SAMPLE, "--check", "1.1.1;rm"],
            "--check \"1.1.1;rm\": not a check ID",
        ),
        (
            vec!["--snapshot", SAMPLE, "--check", "9.9.9"],
            "--check 9.9.9: no such check in cis-1.11",
        ),
        (
            vec!["--snapshot", SAMPLE, "--group", "9.9"],
            "--group 9.9: no such group in cis-1.11",
        ),
        (
            vec!["--snapshot", SAMPLE, "--skip", "1.2.x y"],
            "--skip \"1.2.x y\": not a check or group ID",
        ),
        (
            vec!["--snapshot", SAMPLE, "--version", "banana"],
            "--version \"banana\"",
        ),
        (
            vec!["--snapshot", SAMPLE, "--benchmark", "cis-9.99"],
            "unknown benchmark \"cis-9.99\"",
        ),
        (
            vec!["--snapshot", SAMPLE, "run", "--targets", "master,nodes"],
            "unknown target \"nodes\"",
        ),
        (
            vec!["--config-dir", missing, "--snapshot", SAMPLE],
            "--config-dir /no/such/dir: not a directory",
        ),
        (
            vec!["--host-root", missing, "--benchmark", "cis-1.12"],
            "host root /no/such/dir",
        ),
        (
            vec!["--snapshot", missing],
            "snapshot /no/such/dir/node.yaml",
        ),
        (
            vec![
                "--snapshot",
                SAMPLE,
                "--outputfile",
                "/no/such/dir/report.txt",
            ],
            "--outputfile /no/such/dir/report.txt: /no/such/dir is not a directory",
        ),
    ];
    for (args, message) in cases {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(stdout(&o).is_empty(), "{args:?}: nothing is printed");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
