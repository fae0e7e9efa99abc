//! Managed platforms (Amazon EKS, GKE, AKS): every fixture node is
//! recognised from its own markers and audited with its platform's newest
//! benchmark without being told; `--benchmark` and `--distribution`
//! override; the checks read each platform's own files; the managed-service
//! and API checks are manual; a node nothing identifies gets a clear message.

mod common;
use common::*;
use kubecis::benchmark::{load_catalog, CfgSource, CheckKind, FileRef};
use kubecis::collect::{FileSet, NodeFacts, SnapshotHost};
use serde_json::Value;
use std::path::Path;

/// Every managed fixture node: its distribution, the markers that identify
/// it, its kubelet's version and the benchmark auto mode must pick.
const NODES: &[(&str, &str, &[&str], &str, &str)] = &[
    (
        "eks-al2-hardened",
        "eks",
        &["/etc/eks", "/etc/kubernetes/kubelet/kubelet-config.json"],
        "v1.29.0-eks-5e0fdde",
        "eks-1.8.0",
    ),
    (
        "eks-al2-insecure",
        "eks",
        &["/etc/eks", "/etc/kubernetes/kubelet/kubelet-config.json"],
        "v1.11.5",
        "eks-1.8.0",
    ),
    (
        "eks-al2-eksctl",
        "eks",
        &["/etc/eks", "/etc/kubernetes/kubelet/kubelet-config.json"],
        "v1.14.7-eks-1861c5",
        "eks-1.8.0",
    ),
    (
        "eks-al2023-hardened",
        "eks",
        &["/etc/eks", "/etc/kubernetes/kubelet/config.json"],
        "v1.29.0-eks-5e0fdde",
        "eks-1.8.0",
    ),
    (
        "eks-al2023-insecure",
        "eks",
        &["/etc/eks", "/etc/kubernetes/kubelet/config.json"],
        "v1.29.0-eks-5e0fdde",
        "eks-1.8.0",
    ),
    (
        "gke-hardened",
        "gke",
        &[
            "/home/kubernetes/kubelet-config.yaml",
            "/home/kubernetes/bin/kubelet",
        ],
        "v1.30.5-gke.1014001",
        "gke-1.9.0",
    ),
    (
        "gke-insecure",
        "gke",
        &[
            "/home/kubernetes/kubelet-config.yaml",
            "/home/kubernetes/bin/kubelet",
        ],
        "v1.30.5-gke.1014001",
        "gke-1.9.0",
    ),
    (
        "aks-hardened",
        "aks",
        &["/etc/kubernetes/azure.json"],
        "v1.29.7",
        "aks-1.8",
    ),
    (
        "aks-insecure",
        "aks",
        &["/etc/kubernetes/azure.json"],
        "v1.29.7",
        "aks-1.8",
    ),
];

const MANAGED_BENCHMARKS: &[&str] = &[
    "eks-1.5.0",
    "eks-1.7.0",
    "eks-1.8.0",
    "gke-1.6.0",
    "gke-1.8.0",
    "gke-1.9.0",
    "aks-1.7",
    "aks-1.8",
];

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// (id, status, evidence paths) of every result in a JSON report.
fn results(report: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for c in report["Controls"].as_array().unwrap() {
        // `tests: null`: a target with no check to run here.
        for g in c["tests"].as_array().into_iter().flatten() {
            for r in g["results"].as_array().unwrap() {
                let paths = r["evidence"]
                    .as_array()
                    .map(|ev| {
                        ev.iter()
                            .filter_map(|e| e["path"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push((
                    r["test_number"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                    paths,
                ));
            }
        }
    }
    out
}

/// A copy of a fixture node in a temporary directory, to change it.
fn copy_node(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_path(&node(name)), dir.path());
    dir
}

#[test]
fn each_managed_node_is_recognised_and_gets_its_platforms_newest_benchmark() {
    for (name, dist, markers, version, bench) in NODES {
        let o = run(&["--snapshot", &node(name), "--json"]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        let line = format!("kubecis: distribution {dist} (from {})", markers.join(", "));
        assert!(
            err.lines().any(|l| l == line),
            "{name}: want {line:?} in\n{err}"
        );
        assert!(
            err.contains(&format!(
                "kubecis: benchmark {bench} for Kubernetes {version} ("
            )),
            "{name}: {err}"
        );
        let report = json(&o);
        let det = &report["kubecis"]["detection"];
        assert_eq!(det["distribution"], *dist, "{name}");
        assert_eq!(strings(&det["distribution_evidence"]), *markers, "{name}");
        assert_eq!(det["kubernetes_version"], *version, "{name}");
        assert_eq!(det["benchmark"], *bench, "{name}");
        assert_eq!(report["kubecis"]["benchmark"], *bench, "{name}");
        assert!(
            det["source"].as_str().unwrap().contains("--version`"),
            "{name}: the version comes from the kubelet binary: {det}"
        );
        // A worker node: the managed control plane is not here; node checks,
        // policies and the cloud's managed services are.
        let ran: Vec<String> = report["Controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["node_type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ran, ["node", "policies", "managedservices"], "{name}");
        for t in report["kubecis"]["targets"].as_array().unwrap() {
            let selected = t["selected"].as_bool().unwrap();
            match t["target"].as_str().unwrap() {
                "master" | "controlplane" => assert!(!selected, "{name}: {t}"),
                "node" => assert!(
                    selected && t["reason"].as_str().unwrap().contains("kubelet"),
                    "{name}: {t}"
                ),
                "policies" | "managedservices" => {
                    assert!(selected && t["reason"] == "always runs", "{name}: {t}")
                }
                other => panic!("{name}: unexpected target {other}"),
            }
        }
    }
}

#[test]
fn amazon_linux_2_and_2023_kubelets_are_read_from_their_own_files() {
    // AL2: kubelet-config.json named by --config in the unit.
    let o = run(&[
        "--snapshot",
        &node("eks-al2-hardened"),
        "--json",
        "--check",
        "3.1.1,3.1.3,3.2.4",
    ]);
    let r = results(&json(&o));
    assert_eq!(
        r,
        [
            (
                "3.1.1".into(),
                "PASS".into(),
                vec!["/var/lib/kubelet/kubeconfig".to_string()]
            ),
            (
                "3.1.3".into(),
                "PASS".into(),
                vec!["/etc/kubernetes/kubelet/kubelet-config.json".to_string()]
            ),
            (
                "3.2.4".into(),
                "PASS".into(),
                vec!["/etc/kubernetes/kubelet/kubelet-config.json".to_string()]
            ),
        ]
    );
    // AL2023: config.json named in NODEADM_KUBELET_ARGS; the drop-in that
    // nodeadm writes from the NodeConfig overrides it, and the flags the
    // NodeConfig adds override both.
    let o = run(&[
        "--snapshot",
        &node("eks-al2023-insecure"),
        "--json",
        "--check",
        "3.1.3,3.2.4,3.2.3,3.2.5",
    ]);
    let report = json(&o);
    let r = results(&report);
    let dropin = "/etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf".to_string();
    assert_eq!(
        r[0],
        (
            "3.1.3".into(),
            "FAIL".into(),
            vec!["/etc/kubernetes/kubelet/config.json".to_string()]
        )
    );
    assert_eq!(r[1], ("3.2.3".into(), "FAIL".into(), vec![dropin.clone()]));
    assert_eq!(r[2], ("3.2.4".into(), "FAIL".into(), vec![dropin]));
    assert_eq!(r[3].1, "FAIL");
    let reasons = verdicts(&report);
    assert!(
        reasons[3]
            .2
            .contains("--streaming-connection-idle-timeout=0 on kubelet (pid 2391)"),
        "{reasons:?}"
    );
    // The same files without the NodeConfig's changes pass.
    let o = run(&[
        "--snapshot",
        &node("eks-al2023-hardened"),
        "--json",
        "--check",
        "3.2.4",
    ]);
    assert_eq!(
        results(&json(&o)),
        [(
            "3.2.4".into(),
            "PASS".into(),
            vec!["/etc/kubernetes/kubelet/config.json".to_string()]
        )]
    );
}

#[test]
fn an_eksctl_node_is_audited_from_the_files_its_kubelet_names() {
    // eksctl's drop-in replaces the AMI's ExecStart: the kubelet runs with
    // /etc/eksctl/kubelet.yaml while the AMI's kubelet-config.json stays on
    // disk, unused.
    let dir = node("eks-al2-eksctl");
    assert!(Path::new(&repo_path(&dir))
        .join("root/etc/kubernetes/kubelet/kubelet-config.json")
        .exists());
    let o = run(&["--snapshot", &dir, "--json", "--check", "3.1.1,3.1.3,3.2.3"]);
    assert_eq!(
        results(&json(&o)),
        [
            (
                "3.1.1".into(),
                "PASS".into(),
                vec!["/etc/eksctl/kubeconfig.yaml".to_string()]
            ),
            (
                "3.1.3".into(),
                "PASS".into(),
                vec!["/etc/eksctl/kubelet.yaml".to_string()]
            ),
            (
                "3.2.3".into(),
                "PASS".into(),
                vec!["/etc/eksctl/kubelet.yaml".to_string()]
            ),
        ]
    );
}

#[test]
fn gke_and_aks_checks_read_their_platforms_files() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // gke-1.6.0 3.1.1 is kube-proxy's kubeconfig, gke-1.9.0 3.1.1 the
        // kubelet's.
        (
            "gke-hardened",
            "gke-1.6.0",
            "3.1.1",
            "/var/lib/kube-proxy/kubeconfig",
        ),
        (
            "gke-hardened",
            "gke-1.9.0",
            "3.1.1",
            "/var/lib/kubelet/kubeconfig",
        ),
        (
            "gke-hardened",
            "gke-1.9.0",
            "3.1.3",
            "/home/kubernetes/kubelet-config.yaml",
        ),
        (
            "gke-insecure",
            "gke-1.6.0",
            "3.2.4",
            "/home/kubernetes/kubelet-config.yaml",
        ),
        (
            "aks-hardened",
            "aks-1.8",
            "3.1.3",
            "/etc/kubernetes/azure.json",
        ),
        (
            "aks-hardened",
            "aks-1.8",
            "3.2.3",
            "/etc/default/kubeletconfig.json",
        ),
        (
            "aks-insecure",
            "aks-1.7",
            "3.1.1",
            "/var/lib/kubelet/kubeconfig",
        ),
    ];
    for (n, bench, id, path) in cases {
        let o = run(&[
            "--snapshot",
            &node(n),
            "--benchmark",
            bench,
            "--json",
            "--check",
            id,
        ]);
        assert!(o.status.success(), "{n}: {}", stderr(&o));
        let r = results(&json(&o));
        assert_eq!(r.len(), 1, "{n} {bench} {id}: {r:?}");
        assert_eq!(r[0].2, vec![path.to_string()], "{n} {bench} {id}");
    }
    // A flags-only AKS kubelet: the flag is the evidence.
    let o = run(&[
        "--snapshot",
        &node("aks-insecure"),
        "--json",
        "--check",
        "3.2.4",
    ]);
    let v = verdicts(&json(&o));
    assert_eq!(v[0].1, "FAIL");
    assert!(
        v[0].2
            .contains("--read-only-port=10255 on kubelet (pid 2874)"),
        "{v:?}"
    );
}

#[test]
fn every_platform_file_the_cfg_names_resolves_on_its_nodes() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let cases: &[(&str, &str, &str, &str, &[&str])] = &[
        (
            "eks-1.8.0",
            "eks-al2-hardened",
            "kubelet",
            "config",
            &["/etc/kubernetes/kubelet/kubelet-config.json"],
        ),
        (
            "eks-1.8.0",
            "eks-al2-hardened",
            "kubelet",
            "client-ca",
            &["/etc/kubernetes/pki/ca.crt"],
        ),
        (
            "eks-1.8.0",
            "eks-al2-hardened",
            "kubelet",
            "service",
            &[
                "/etc/systemd/system/kubelet.service",
                "/etc/systemd/system/kubelet.service.d/10-kubelet-args.conf",
            ],
        ),
        (
            "eks-1.8.0",
            "eks-al2023-hardened",
            "kubelet",
            "config",
            &["/etc/kubernetes/kubelet/config.json"],
        ),
        (
            "eks-1.8.0",
            "eks-al2023-hardened",
            "kubelet",
            "drop-ins",
            &["/etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf"],
        ),
        (
            "eks-1.8.0",
            "eks-al2023-hardened",
            "kubelet",
            "kubeconfig",
            &["/var/lib/kubelet/kubeconfig"],
        ),
        (
            "eks-1.8.0",
            "eks-al2023-hardened",
            "kubelet",
            "environment",
            &["/etc/eks/kubelet/environment"],
        ),
        (
            "eks-1.8.0",
            "eks-al2-eksctl",
            "kubelet",
            "client-ca",
            &["/etc/eksctl/ca.crt"],
        ),
        (
            "gke-1.9.0",
            "gke-hardened",
            "kubelet",
            "config",
            &["/home/kubernetes/kubelet-config.yaml"],
        ),
        (
            "gke-1.9.0",
            "gke-hardened",
            "kubelet",
            "client-ca",
            &["/etc/srv/kubernetes/pki/ca-certificates.crt"],
        ),
        (
            "gke-1.9.0",
            "gke-hardened",
            "kubelet",
            "environment",
            &["/etc/default/kubelet"],
        ),
        (
            "gke-1.9.0",
            "gke-hardened",
            "kubelet",
            "service",
            &["/etc/systemd/system/kubelet.service"],
        ),
        (
            "gke-1.9.0",
            "gke-hardened",
            "proxy",
            "kubeconfig",
            &["/var/lib/kube-proxy/kubeconfig"],
        ),
        (
            "aks-1.8",
            "aks-hardened",
            "kubelet",
            "config",
            &["/etc/default/kubeletconfig.json"],
        ),
        (
            "aks-1.8",
            "aks-hardened",
            "kubelet",
            "client-ca",
            &["/etc/kubernetes/certs/ca.crt"],
        ),
        (
            "aks-1.8",
            "aks-hardened",
            "kubelet",
            "environment",
            &["/etc/default/kubelet"],
        ),
        (
            "aks-1.8",
            "aks-hardened",
            "kubelet",
            "cloud-config",
            &["/etc/kubernetes/azure.json"],
        ),
        (
            "aks-1.8",
            "aks-hardened",
            "kubelet",
            "service",
            &[
                "/etc/systemd/system/kubelet.service",
                "/etc/systemd/system/kubelet.service.d/10-componentconfig.conf",
                "/etc/systemd/system/kubelet.service.d/10-containerd.conf",
                "/etc/systemd/system/kubelet.service.d/10-tlsbootstrap.conf",
            ],
        ),
        // A flags-only kubelet: no --config and nothing at the usual place.
        ("aks-1.8", "aks-insecure", "kubelet", "config", &[]),
    ];
    for (bench, n, component, name, want) in cases {
        let b = catalog.benchmark(bench).unwrap();
        let host = SnapshotHost::open(&repo_path(&node(n))).unwrap();
        let facts = NodeFacts::new(&host, &b.components);
        let got = facts.files(&FileRef::Named {
            component: component.to_string(),
            name: name.to_string(),
            filter: None,
        });
        let mut paths: Vec<String> = match got {
            FileSet::Files { files, .. } => files.into_iter().map(|f| f.path).collect(),
            FileSet::Absent(_) => Vec::new(),
            FileSet::Unknown(why) => panic!("{bench} {n} {component} {name}: {why}"),
        };
        paths.sort();
        assert_eq!(paths, *want, "{bench} {n} {component} {name}");
    }
}

#[test]
fn the_benchmark_flag_picks_an_older_platform_benchmark() {
    let o = run(&[
        "--snapshot",
        &node("eks-al2-hardened"),
        "--benchmark",
        "eks-1.5.0",
        "--json",
        "run",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("kubecis: benchmark eks-1.5.0 (from --benchmark)"),
        "{err}"
    );
    assert!(
        !err.contains("looks like"),
        "the node is an EKS node: {err}"
    );
    let report = json(&o);
    let det = &report["kubecis"]["detection"];
    assert_eq!(det["benchmark"], "eks-1.5.0");
    assert_eq!(det["distribution"], "eks");
    assert_eq!(det["source"], "--benchmark");
    // eks-1.5.0 has one control plane check, eks-1.8.0 two.
    let ids: Vec<String> = verdicts(&report).into_iter().map(|v| v.0).collect();
    assert!(ids.contains(&"2.1.1".to_string()) && !ids.contains(&"2.1.2".to_string()));
    assert!(ids.contains(&"4.5.3".to_string()), "{ids:?}");

    // gke-1.6.0 still audits the kubelet's settings (3.2), gke-1.9.0 does not.
    let o = run(&[
        "--snapshot",
        &node("gke-insecure"),
        "--benchmark",
        "gke-1.6.0",
        "--json",
        "--check",
        "3.2.4",
    ]);
    let v = verdicts(&json(&o));
    assert_eq!(v[0].0, "3.2.4");
    assert_eq!(v[0].1, "FAIL", "{v:?}");

    // An upstream benchmark on a managed node is allowed, and said to be odd.
    let o = run(&[
        "--snapshot",
        &node("aks-hardened"),
        "--benchmark",
        "cis-1.12",
        "--check",
        "4.2.1",
    ]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("this node looks like aks (/etc/kubernetes/azure.json)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_managed_node_needs_no_kubernetes_version() {
    let dir = copy_node("eks-al2023-hardened");
    let node_yaml = dir.path().join("node.yaml");
    let text = std::fs::read_to_string(&node_yaml).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("versions:") && !l.starts_with("  /usr/bin/kubelet:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(text, without);
    std::fs::write(&node_yaml, without).unwrap();
    let o = run(&["--snapshot", dir.path().to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let det = &json(&o)["kubecis"]["detection"];
    assert_eq!(det["benchmark"], "eks-1.8.0");
    assert_eq!(det["kubernetes_version"], Value::Null);
    assert!(stderr(&o).contains("kubecis: benchmark eks-1.8.0 (from the Amazon EKS benchmark)"));
}

#[test]
fn an_unknown_node_without_a_version_gets_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("root/etc")).unwrap();
    std::fs::write(
        dir.path().join("node.yaml"),
        "processes:\n- pid: 5\n  cmdline: [/usr/bin/kubelet, --config=/etc/kubelet.yaml]\n",
    )
    .unwrap();
    let o = run(&["--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).is_empty(),
        "nothing half-written: {}",
        stdout(&o)
    );
    let err = stderr(&o);
    for want in [
        "cannot work out the Kubernetes version",
        "records no version for /usr/bin/kubelet",
        "No distribution was recognised either (none of the markers of aks, eks, gke",
        "--distribution <name>",
        "--version <major.minor>",
    ] {
        assert!(err.contains(want), "want {want:?} in {err}");
    }
    // Naming the platform is enough.
    let o = run(&[
        "--snapshot",
        dir.path().to_str().unwrap(),
        "--distribution",
        "gke",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("kubecis: distribution gke (from --distribution)"));
    assert!(stderr(&o).contains("kubecis: benchmark gke-1.9.0 ("));
}

#[test]
fn a_node_with_two_platforms_markers_is_ambiguous_until_named() {
    let dir = copy_node("eks-al2-hardened");
    std::fs::write(dir.path().join("root/etc/kubernetes/azure.json"), "{}\n").unwrap();
    let o = run(&["--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("more than one distribution: aks (/etc/kubernetes/azure.json); eks (/etc/eks"),
        "{err}"
    );
    assert!(err.contains("--distribution"), "{err}");
    let o = run(&[
        "--snapshot",
        dir.path().to_str().unwrap(),
        "--distribution",
        "eks",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["kubecis"]["detection"]["benchmark"], "eks-1.8.0");
}

#[test]
fn managed_benchmarks_have_kube_benchs_targets_and_checks() {
    // (benchmark, number of checks in master, controlplane, node, policies,
    // managedservices), as the CIS benchmarks define them.
    let sizes: &[(&str, [usize; 5])] = &[
        ("eks-1.5.0", [0, 1, 13, 20, 12]),
        ("eks-1.7.0", [0, 2, 13, 19, 12]),
        ("eks-1.8.0", [0, 2, 13, 23, 12]),
        ("gke-1.6.0", [0, 1, 13, 20, 34]),
        ("gke-1.8.0", [0, 0, 4, 20, 33]),
        ("gke-1.9.0", [0, 0, 4, 20, 33]),
        ("aks-1.7", [0, 1, 13, 18, 13]),
        ("aks-1.8", [0, 1, 13, 24, 13]),
    ];
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    assert_eq!(sizes.len(), MANAGED_BENCHMARKS.len());
    for (bench, want) in sizes {
        assert!(MANAGED_BENCHMARKS.contains(bench));
        let b = catalog.benchmark(bench).unwrap();
        let targets: Vec<&str> = b.controls.iter().map(|c| c.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "master",
                "controlplane",
                "node",
                "policies",
                "managedservices"
            ],
            "{bench}"
        );
        for (ctl, n) in b.controls.iter().zip(want) {
            let checks: Vec<_> = ctl.groups.iter().flat_map(|g| &g.checks).collect();
            assert_eq!(checks.len(), *n, "{bench} {}", ctl.target);
            for c in checks {
                // Only the worker node can be audited from the node; the
                // rest needs the Kubernetes API or the cloud's.
                let audited = c.kind == CheckKind::Audited;
                assert_eq!(audited, ctl.target == "node", "{bench} {}", c.id);
                assert!(!c.remediation.trim().is_empty(), "{bench} {}", c.id);
                assert!(
                    c.text.ends_with("(Automated)") || c.text.ends_with("(Manual)"),
                    "{bench} {}: {}",
                    c.id,
                    c.text
                );
                // Scored only when audited and CIS calls it automated.
                assert_eq!(
                    c.scored,
                    audited && c.text.ends_with("(Automated)"),
                    "{bench} {}",
                    c.id
                );
            }
        }
        // Each belongs to its platform, the newest is its default.
        let dist = catalog.distribution_of(bench).unwrap();
        assert_eq!(dist.name, bench.split('-').next().unwrap());
    }
    for (dist, newest) in [
        ("eks", "eks-1.8.0"),
        ("gke", "gke-1.9.0"),
        ("aks", "aks-1.8"),
    ] {
        assert_eq!(
            catalog.distribution(dist).unwrap().benchmark.as_deref(),
            Some(newest)
        );
    }
}

#[test]
fn manual_checks_warn_with_their_remediation_on_every_managed_node() {
    let o = run(&["--snapshot", &node("aks-hardened"), "--json", "run"]);
    let report = json(&o);
    let mut manual = 0;
    for c in report["Controls"].as_array().unwrap() {
        // `tests: null`: a target with no check to run here.
        for g in c["tests"].as_array().into_iter().flatten() {
            for r in g["results"].as_array().unwrap() {
                if r["type"] == "manual" {
                    manual += 1;
                    assert_eq!(r["status"], "WARN", "{r}");
                    assert!(!r["remediation"].as_str().unwrap().is_empty(), "{r}");
                } else {
                    assert_eq!(c["node_type"], "node", "{r}");
                }
            }
        }
    }
    // aks-1.8: 1 control plane, 24 policies and 13 managed service checks.
    assert_eq!(manual, 38);
}

#[test]
fn managed_reports_validate_against_the_published_schema() {
    let validator = report_schema();
    for n in ["eks-al2023-insecure", "gke-hardened", "aks-insecure"] {
        let doc = json(&run(&["--snapshot", &node(n), "--json", "run"]));
        let errors = schema_errors(&validator, &doc);
        assert!(errors.is_empty(), "{n}: {errors:#?}");
    }
}
