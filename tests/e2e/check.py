#!/usr/bin/env python3
"""Compares the kubecis reports of one end-to-end node with its expectation
table and prints every mismatch; exits 1 when there is any.

Asserted for each of the three audits (host root /, the root bound under
another path, the Job layout):
- kubecis exited 0 and printed a JSON report;
- it detected Kubernetes v1.32.0 from the static pod manifests and chose
  cis-1.12, and it selected the master, controlplane, etcd and node targets;
- every automated check has exactly the verdict of the table, with a reason,
  and the table names no check the report lacks; every manual check is WARN;
- settings came from the live processes: every evidence pid is the pid of the
  node's process for that component, every etcd check (section 2) not
  decided by a default cites the live etcd's command line, and no verdict fell back to a static pod
  manifest's command;
and across the three: the same verdict and the same reason for every check.
"""

import argparse
import json
import re
import sys

LAYOUTS = {
    "root": "host root /",
    "rbind": "--host-root on a read-only recursive bind of /",
    "job": "--host-root on the Job layout",
}
TARGETS = ["master", "controlplane", "etcd", "node"]
ROW = re.compile(r'^"(?P<id>[0-9]+(\.[0-9]+)*)":\s*(?P<v>PASS|FAIL|WARN|INFO)\s*(#.*)?$')
# The audit's component for each settings check family, by CIS section.
COMPONENT_BY_PREFIX = [
    ("1.2.", "kube-apiserver"),
    ("3.2.", "kube-apiserver"),
    ("1.3.", "kube-controller-manager"),
    ("1.4.", "kube-scheduler"),
    ("2.", "etcd"),
    ("4.2.", "kubelet"),
    ("4.3.", "kube-proxy"),
]


def load_table(path):
    table, errors = {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            m = ROW.match(text)
            if not m:
                errors.append(f"{path}:{n}: not a row `\"ID\": VERDICT  # why`: {text}")
            elif m["id"] in table:
                errors.append(f"{path}:{n}: {m['id']} is listed twice")
            else:
                table[m["id"]] = m["v"]
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(2)
    return table


def results(report):
    for control in report["Controls"]:
        # kube-bench's shape: `tests` is null for a target with no check selected.
        for group in control["tests"] or []:
            yield from group["results"]


def component_of(check_id):
    return next((c for p, c in COMPONENT_BY_PREFIX if check_id.startswith(p)), None)


def check_layout(name, reports, table, pids, problems, mismatches):
    where = f"{name} ({LAYOUTS[name]})"
    status = open(f"{reports}/{name}.status").read().strip()
    stderr = open(f"{reports}/{name}.stderr").read()
    if status != "0":
        problems.append(f"{where}: kubecis exited {status}: {stderr.strip()}")
        return None
    try:
        report = json.load(open(f"{reports}/{name}.json"))
    except ValueError as e:
        problems.append(f"{where}: the report is not JSON: {e}")
        return None

    meta = report["kubecis"]
    det = meta["detection"]
    if meta["benchmark"] != "cis-1.12" or det.get("kubernetes_version") != "v1.32.0":
        problems.append(
            f"{where}: detected {det.get('kubernetes_version')} -> {meta['benchmark']}, "
            "expected v1.32.0 -> cis-1.12"
        )
    if "static pod manifest" not in det["source"]:
        problems.append(f"{where}: version came from {det['source']!r}, not the manifests")
    selected = {t["target"] for t in meta["targets"] if t["selected"]}
    for t in TARGETS:
        if t not in selected:
            problems.append(f"{where}: target {t} was not selected")

    verdicts, seen = {}, set()
    for r in results(report):
        cid, got = r["test_number"], r["status"]
        # kube-bench's shape: `reason` is left out when empty.
        reason = r.get("reason", "")
        verdicts[cid] = (got, reason)
        if r["type"] == "manual":
            if got != "WARN":
                problems.append(f"{where}: {cid} is manual but {got}")
            continue
        seen.add(cid)
        want = table.get(cid)
        if want is None:
            problems.append(f"{where}: {cid} is audited but has no row in the table ({got}: {reason})")
        elif want != got:
            mismatches.setdefault((cid, want, got, reason), []).append(name)
        if not reason:
            problems.append(f"{where}: {cid}: {got} without a reason")
        comp = component_of(cid)
        # Section 2 judges the running etcd: a setting its manifest gives
        # must be cited from its live command line; the others (--auto-tls,
        # --peer-auto-tls) are etcd's defaults.
        sources = {ev.get("source") for ev in r["evidence"]}
        if comp == "etcd" and sources != {"default"} and not any(
            ev.get("source") == "command_line" and ev.get("pid") == pids.get("etcd")
            for ev in r["evidence"]
        ):
            problems.append(f"{where}: {cid} has no evidence from etcd's live command line")
        for ev in r["evidence"]:
            if ev.get("source") == "manifest":
                problems.append(
                    f"{where}: {cid} read a static pod manifest's command instead of the "
                    f"live process: {ev['detail']}"
                )
            if "pid" in ev and comp is not None and ev["pid"] != pids.get(comp):
                problems.append(
                    f"{where}: {cid}: evidence from pid {ev['pid']}, but {comp} is pid "
                    f"{pids.get(comp)}: {ev['detail']}"
                )
    for cid in sorted(set(table) - seen):
        problems.append(f"{where}: {cid} is in the table but not in the report")
    return verdicts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--reports", required=True)
    a = ap.parse_args()
    table = load_table(a.expect)
    pids = json.load(open(f"{a.reports}/node.json"))["pids"]
    problems = []
    # (check, expected, got, reason) -> the layouts where it happened, so a
    # wrong verdict seen by all three audits is listed once.
    mismatches = {}
    by_layout = {
        n: check_layout(n, a.reports, table, pids, problems, mismatches) for n in LAYOUTS
    }
    ordered = sorted(mismatches.items(), key=lambda kv: [int(x) for x in kv[0][0].split(".")])
    problems[:0] = [
        f"{cid}: expected {want}, got {got} ({', '.join(layouts)}): {reason}"
        for (cid, want, got, reason), layouts in ordered
    ]
    base = by_layout["root"]
    for name, verdicts in by_layout.items():
        if name == "root" or base is None or verdicts is None:
            continue
        for cid in sorted(set(base) | set(verdicts)):
            if base.get(cid) != verdicts.get(cid):
                problems.append(
                    f"{name} differs from root on {cid}: {verdicts.get(cid)} vs {base.get(cid)}"
                )
    if problems:
        print(f"e2e: {a.variant}: {len(problems)} mismatch(es):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
