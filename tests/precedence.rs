//! The kubelet's and etcd's precedence rules, through the library: which
//! source decides each setting, and the evidence that names it.

mod common;
use common::snapshot;
use kubecis::benchmark::{load_catalog, CfgSource, SettingQuery};
use kubecis::collect::{EvidenceSource, Lookup, NodeFacts, SnapshotHost};
use kubecis::jsonpath::JsonPath;

fn q(flag: &str, path: &str) -> SettingQuery {
    SettingQuery {
        flag: Some(flag.into()),
        path: Some(JsonPath::parse(path).unwrap()),
        env: None,
        key: None,
    }
}

fn found(l: Lookup) -> (String, EvidenceSource, bool) {
    match l {
        Lookup::Found(v) => (v.value, v.evidence.source, v.explicit),
        other => panic!("expected a value, got {other:?}"),
    }
}

#[test]
fn kubelet_flags_beat_drop_ins_beat_config_beat_defaults() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let comps = &catalog.benchmark("cis-1.12").unwrap().components;
    let dir = snapshot(
        "processes:\n- pid: 7\n  cmdline: [/usr/bin/kubelet, --config=/var/lib/kubelet/config.yaml, --config-dir=/etc/kubelet.d, --read-only-port=0]\n",
        &[
            ("/var/lib/kubelet/config.yaml", "readOnlyPort: 10255\nauthentication:\n  anonymous:\n    enabled: true\nauthorization:\n  mode: AlwaysAllow\n"),
            ("/etc/kubelet.d/10-a.conf", "authorization:\n  mode: Webhook\n"),
            ("/etc/kubelet.d/20-b.conf", "authorization:\n  mode: Webhook,AlwaysAllow\n"),
            ("/etc/kubelet.d/notes.txt", "authorization: {mode: ignored}\n"),
        ],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    // The flag wins over the file's 10255.
    assert_eq!(
        found(facts.setting("kubelet", &q("--read-only-port", "{.readOnlyPort}"))),
        ("0".into(), EvidenceSource::CommandLine, true)
    );
    // The later drop-in wins over the earlier one and over the file.
    assert_eq!(
        found(facts.setting(
            "kubelet",
            &q("--authorization-mode", "{.authorization.mode}")
        )),
        ("Webhook,AlwaysAllow".into(), EvidenceSource::DropIn, true)
    );
    // The config file wins over the default.
    assert_eq!(
        found(facts.setting(
            "kubelet",
            &q("--anonymous-auth", "{.authentication.anonymous.enabled}")
        )),
        ("true".into(), EvidenceSource::ConfigFile, true)
    );
    // Nothing sets it: the config-file default.
    assert_eq!(
        found(facts.setting(
            "kubelet",
            &q("--protect-kernel-defaults", "{.protectKernelDefaults}")
        )),
        ("false".into(), EvidenceSource::Default, false)
    );
}

#[test]
fn a_kubelet_without_a_config_file_gets_its_legacy_defaults() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let comps = &catalog.benchmark("cis-1.12").unwrap().components;
    let dir = snapshot(
        "processes:\n- pid: 7\n  cmdline: [kubelet, --kubeconfig=/etc/kubernetes/kubelet.conf]\n",
        &[],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    assert_eq!(
        found(facts.setting(
            "kubelet",
            &q("--anonymous-auth", "{.authentication.anonymous.enabled}")
        ))
        .0,
        "true"
    );
    assert_eq!(
        found(facts.setting(
            "kubelet",
            &q("--authorization-mode", "{.authorization.mode}")
        ))
        .0,
        "AlwaysAllow"
    );
    assert_eq!(
        found(facts.setting("kubelet", &q("--read-only-port", "{.readOnlyPort}"))).0,
        "10255"
    );
}

#[test]
fn an_unreadable_or_malformed_config_is_unknown_not_absent() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let comps = &catalog.benchmark("cis-1.12").unwrap().components;
    let dir = snapshot(
        "processes:\n- pid: 7\n  cmdline: [kubelet, --config=/var/lib/kubelet/config.yaml]\nfiles:\n  /var/lib/kubelet/config.yaml: {unreadable: true}\n",
        &[("/var/lib/kubelet/config.yaml", "readOnlyPort: 0\n")],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    assert!(
        matches!(facts.setting("kubelet", &q("--read-only-port", "{.readOnlyPort}")), Lookup::Unknown(r) if r.contains("permission denied"))
    );

    let dir = snapshot(
        "processes:\n- pid: 7\n  cmdline: [kubelet, --config=/var/lib/kubelet/config.yaml]\n",
        &[("/var/lib/kubelet/config.yaml", "readOnlyPort: [0\n")],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    assert!(
        matches!(facts.setting("kubelet", &q("--read-only-port", "{.readOnlyPort}")), Lookup::Unknown(r) if r.contains("malformed"))
    );
}

#[test]
fn etcd_config_file_alone_decides_else_flag_then_environment() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let comps = &catalog.benchmark("cis-1.12").unwrap().components;
    let etcd_q = || SettingQuery {
        flag: Some("--client-cert-auth".into()),
        path: Some(JsonPath::parse("{.client-transport-security.client-cert-auth}").unwrap()),
        env: Some("ETCD_CLIENT_CERT_AUTH".into()),
        key: None,
    };
    // Flag over environment.
    let dir = snapshot("processes:\n- pid: 9\n  cmdline: [etcd, --client-cert-auth=false]\n  environ: {ETCD_CLIENT_CERT_AUTH: \"true\"}\n", &[]);
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    assert_eq!(
        found(facts.setting("etcd", &etcd_q())),
        ("false".into(), EvidenceSource::CommandLine, true)
    );
    // Environment over default.
    let dir = snapshot(
        "processes:\n- pid: 9\n  cmdline: [etcd]\n  environ: {ETCD_CLIENT_CERT_AUTH: \"true\"}\n",
        &[],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    assert_eq!(
        found(facts.setting("etcd", &etcd_q())),
        ("true".into(), EvidenceSource::Environment, true)
    );
    // A config file overrides both (etcd ignores flags and env then).
    let dir = snapshot(
        "processes:\n- pid: 9\n  cmdline: [etcd, --client-cert-auth=false, --config-file=/etc/etcd/etcd.yaml]\n  environ: {}\n",
        &[("/etc/etcd/etcd.yaml", "client-transport-security:\n  client-cert-auth: true\n")],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    assert_eq!(
        found(facts.setting("etcd", &etcd_q())),
        ("true".into(), EvidenceSource::ConfigFile, true)
    );
    // Unreadable environment: unknown, never a guess.
    let dir = snapshot("processes:\n- pid: 9\n  cmdline: [etcd]\n", &[]);
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, comps);
    assert!(matches!(
        facts.setting("etcd", &etcd_q()),
        Lookup::Unknown(_)
    ));
}

#[test]
fn an_empty_value_is_not_a_set_value() {
    use kubecis::evaluate::{evaluate_check, Status};
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let bench = catalog.benchmark("cis-1.12").unwrap();
    let check = |id: &str| bench.checks().find(|c| c.id == id).unwrap();
    // A drop-in that empties clientCAFile leaves the kubelet without a client
    // CA, whatever the config file says; an empty --hostname-override is no
    // override.
    let dir = snapshot(
        "processes:\n- pid: 7\n  cmdline: [/usr/bin/kubelet, --config=/var/lib/kubelet/config.yaml, --config-dir=/etc/kubelet.d, --hostname-override=]\n",
        &[
            (
                "/var/lib/kubelet/config.yaml",
                "authentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
            ),
            (
                "/etc/kubelet.d/50-ca.conf",
                "authentication:\n  x509:\n    clientCAFile: \"\"\n",
            ),
        ],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, &bench.components);
    let ca = evaluate_check(&facts, check("4.2.3"), false, false);
    assert_eq!(ca.status, Status::Fail, "{}", ca.reason);
    assert!(
        ca.reason
            .contains("clientCAFile: \"\" in drop-in /etc/kubelet.d/50-ca.conf"),
        "{}",
        ca.reason
    );
    let hostname = evaluate_check(&facts, check("4.2.7"), false, false);
    assert_eq!(hostname.status, Status::Pass, "{}", hostname.reason);

    // The same kubelet with the CA only in its config file passes.
    let dir = snapshot(
        "processes:\n- pid: 7\n  cmdline: [/usr/bin/kubelet, --config=/var/lib/kubelet/config.yaml]\n",
        &[(
            "/var/lib/kubelet/config.yaml",
            "authentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
        )],
    );
    let host = SnapshotHost::open(dir.path()).unwrap();
    let facts = NodeFacts::new(&host, &bench.components);
    assert_eq!(
        evaluate_check(&facts, check("4.2.3"), false, false).status,
        Status::Pass
    );
}
