#!/usr/bin/env python3
"""Checks that the Dockerfile, job.yaml and deploy/*.yaml agree with each
other and with Cargo.toml, and that every suppressed lint says why.

- one version everywhere: Cargo.toml, the Dockerfile's VERSION, the kubecis
  image tags and the app.kubernetes.io/version labels;
- every kubecis container has the same securityContext and resources, mounts
  each hostPath read-only at /host + its host path, with a type (so nothing
  is ever created on a node), and passes --host-root /host;
- every pod uses hostPID, RuntimeDefault seccomp and no service account token;
- every checkov suppression (checkov.io/skipN annotations, `checkov:skip=`
  in the Dockerfile) and every `hadolint ignore` carries a reason;
- the measured peak memory of an audit stays under the memory request.

Usage: deploy_consistency.py PEAK_RSS_KIB
"""

import re
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
MANIFESTS = [REPO / "job.yaml", *sorted((REPO / "deploy").glob("*.yaml"))]
IMAGE = "ghcr.io/kubecis/kubecis"
MIN_REASON = 20
UNITS = {"Ki": 1, "Mi": 1024, "Gi": 1024 * 1024}

problems = []


def problem(where, msg):
    problems.append(f"{where}: {msg}")


def kib(quantity):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", quantity)
    if not m:
        raise ValueError(f"memory quantity {quantity!r} is not in Ki, Mi or Gi")
    return int(m.group(1)) * UNITS[m.group(2)]


def check_dockerfile(version):
    lines = (REPO / "Dockerfile").read_text().splitlines()
    args = [l for l in lines if l.startswith("ARG VERSION=")]
    if args != [f"ARG VERSION={version}"]:
        problem("Dockerfile", f"ARG VERSION is {args}, Cargo.toml says {version}")
    for i, line in enumerate(lines):
        m = re.search(r"checkov:skip=(\S+?):\s*(.*)", line)
        if "checkov:skip" in line and (not m or len(m.group(2)) < MIN_REASON):
            problem(f"Dockerfile:{i + 1}", "checkov:skip=<ID>: needs a reason")
        if "hadolint ignore" in line:
            before = lines[i - 1] if i else ""
            if not before.startswith("#") or "hadolint" in before:
                problem(f"Dockerfile:{i + 1}", "hadolint ignore needs a comment line above saying why")


def check_workload(path, doc, version, reference):
    where = f"{path.name} {doc['kind']} {doc['metadata']['name']}"
    meta = doc["metadata"]
    if meta.get("labels", {}).get("app.kubernetes.io/version") != version:
        problem(where, f"label app.kubernetes.io/version is not {version}")
    for key, value in (meta.get("annotations") or {}).items():
        if key.startswith("checkov.io/skip"):
            # checkov splits the value on "=": exactly one, then the reason.
            parts = value.split("=")
            if len(parts) != 2 or not re.fullmatch(r"CKV2?_[A-Z0-9_]+", parts[0]) or len(parts[1]) < MIN_REASON:
                problem(where, f"{key} must be CKV_...=<reason without '='>")
    spec = doc["spec"]["template"]["spec"]
    if spec.get("hostPID") is not True:
        problem(where, "hostPID must be true: kubecis reads the node's processes from /proc")
    if spec.get("automountServiceAccountToken") is not False:
        problem(where, "automountServiceAccountToken must be false: kubecis never calls the API")
    if (spec.get("securityContext") or {}).get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problem(where, "the pod's seccompProfile must be RuntimeDefault")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec.get("initContainers", []) + spec["containers"]:
        image, _, tag = c["image"].rpartition(":")
        if image == IMAGE and tag != version:
            problem(where, f"image {c['image']} is not tagged {version}")
        if image != IMAGE:
            continue
        args = c.get("args", [])
        if "--host-root" not in args or args[args.index("--host-root") + 1:][:1] != ["/host"]:
            problem(where, "args must pass --host-root /host")
        for m in c.get("volumeMounts", []):
            hp = volumes[m["name"]].get("hostPath", {})
            if m.get("readOnly") is not True:
                problem(where, f"volume {m['name']} must be mounted readOnly")
            if m["mountPath"] != "/host" + hp.get("path", "?"):
                problem(where, f"volume {m['name']} must be mounted at /host{hp.get('path')}")
            if hp.get("type") not in ("Directory", "File"):
                problem(where, f"hostPath {hp.get('path')} needs type Directory or File")
        shared = {"securityContext": c.get("securityContext"), "resources": c.get("resources")}
        if reference.setdefault("container", shared) != shared:
            problem(where, "the kubecis container's securityContext or resources differ from job.yaml's")
        reference.setdefault("memory_request", c["resources"]["requests"]["memory"])


def main(peak_rss_kib):
    version = tomllib.loads((REPO / "Cargo.toml").read_text())["package"]["version"]
    check_dockerfile(version)
    reference = {}
    workloads = 0
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") in ("Job", "DaemonSet"):
                workloads += 1
                check_workload(path, doc, version, reference)
    if workloads == 0:
        problem("manifests", "no Job or DaemonSet found")
    request = reference.get("memory_request")
    if request and peak_rss_kib >= kib(request):
        problem("resources", f"peak RSS {peak_rss_kib} KiB is not under the memory request {request}")
    for p in problems:
        print(f"deploy-consistency: FAIL {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"deploy-consistency: ok ({workloads} workloads, version {version}, "
          f"peak RSS {peak_rss_kib} KiB under the {request} request)")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(int(sys.argv[1]))
