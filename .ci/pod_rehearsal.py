#!/usr/bin/env python3
"""Runs the kubecis container of each manifest the way a node would, without
a cluster, and checks that it reports what `--snapshot` reports for the same
node.

For every pod template in job.yaml and deploy/*.yaml and every node snapshot
that fits its node role, this script
- builds the node: the snapshot's files under a fresh directory with the
  snapshot's modes and owners, and its processes as live dummy processes
  (exact command lines and environments) in a new PID namespace;
- builds the container: a root holding only what the Dockerfile's final stage
  copies (the static binary), read-only when the manifest says so, with each
  hostPath volume bind-mounted read-only at its mountPath and /proc of the
  PID namespace (what hostPID gives);
- runs the image's ENTRYPOINT with the manifest's args (environment variables
  expanded as the kubelet does) in that root as the manifest's user, with
  only the capabilities the manifest adds and no_new_privs;
- runs the same binary with `--snapshot` instead of `--host-root` and
  requires the same report (process IDs aside).

A path a check needs that the manifest does not mount, a capability or user
that does not suffice, or args the binary no longer accepts make a
difference and fail the run. Two controls prove the choices are needed:
without CAP_SYS_PTRACE, and as a non-root user, checks turn to WARN.

Needs root (mount and PID namespaces), util-linux and PyYAML.
Usage: pod_rehearsal.py BINARY
"""

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
MANIFESTS = [REPO / "job.yaml", *sorted((REPO / "deploy").glob("*.yaml"))]
NODES = REPO / "tests/fixtures/nodes"
IMAGE_PREFIX = "ghcr.io/kubecis/kubecis:"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"

# Host paths in the snapshots that the manifests leave out on purpose.
NOT_MOUNTED = {
    "/var/lib/kube-proxy": "kubeadm runs kube-proxy as a DaemonSet whose config "
    "and kubeconfig live in its pod (a ConfigMap), not on the node",
}
# Directories every systemd node has; the snapshots carry them only when
# they hold a kubelet unit.
ALWAYS_ON_NODE = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"]

# A kubeadm worker made from the sample control plane: what a worker lacks.
WORKER_DROPS = [
    "/etc/kubernetes/manifests/",
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/super-admin.conf",
    "/etc/kubernetes/controller-manager.conf",
    "/etc/kubernetes/scheduler.conf",
    "/etc/kubernetes/pki/",
    "/var/lib/etcd",
]
WORKER_KEEPS = ["/etc/kubernetes/pki/ca.crt"]
WORKER_PROCESSES = {"kubelet", "kube-proxy"}

# Values of the ConfigMap keys the manifests read (the sample is v1.29.0).
CONFIG_MAPS = {("kubecis", "kubernetes-version"): "v1.29.0"}

CAPS = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
    "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
    "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
]
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# An audit takes well under a second; the Job's activeDeadlineSeconds is 300.
AUDIT_TIMEOUT_S = 60


def fail(msg):
    print(f"pod-rehearsal: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- the image


def image_from_dockerfile():
    """The final stage's copied binary, ENTRYPOINT and USER."""
    lines = (REPO / "Dockerfile").read_text().splitlines()
    last_from = max(i for i, l in enumerate(lines) if l.startswith("FROM "))
    copy = entrypoint = user = None
    for line in lines[last_from:]:
        if line.startswith("COPY --from="):
            src, dst = line.split()[2:4]
            copy = (src, dst)
        elif line.startswith("ENTRYPOINT "):
            entrypoint = json.loads(line[len("ENTRYPOINT "):])
        elif line.startswith("USER "):
            uid, _, gid = line.split()[1].partition(":")
            user = (int(uid), int(gid or uid))
    if not copy or not entrypoint or not user:
        fail("Dockerfile: the final stage needs COPY --from, ENTRYPOINT and USER")
    if entrypoint[0] != copy[1]:
        fail(f"Dockerfile: ENTRYPOINT {entrypoint[0]} is not the copied binary {copy[1]}")
    return {"binary_path": copy[1], "entrypoint": entrypoint, "user": user}


# ------------------------------------------------------------ the manifests


def pod_templates():
    """(manifest, workload name, pod spec, kubecis container, node role)."""
    found = []
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") not in ("Job", "DaemonSet"):
                continue
            spec = doc["spec"]["template"]["spec"]
            containers = spec.get("initContainers", []) + spec["containers"]
            ours = [c for c in containers if c["image"].startswith(IMAGE_PREFIX)]
            if len(ours) != 1:
                fail(f"{path.name} {doc['metadata']['name']}: expected one kubecis container")
            found.append((path.relative_to(REPO), doc["metadata"]["name"], spec, ours[0], node_role(spec)))
    return found


def node_role(spec):
    if CONTROL_PLANE_LABEL in (spec.get("nodeSelector") or {}):
        return "control-plane"
    terms = (
        spec.get("affinity", {}).get("nodeAffinity", {})
        .get("requiredDuringSchedulingIgnoredDuringExecution", {})
        .get("nodeSelectorTerms", [])
    )
    for term in terms:
        for expr in term.get("matchExpressions", []):
            if expr["key"] == CONTROL_PLANE_LABEL and expr["operator"] == "DoesNotExist":
                return "worker"
    fail("a pod template selects neither control-plane nor worker nodes")


def expand(text, env):
    """$(VAR) as the kubelet expands it in args; $$ is a literal $."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", sub, text)


def container_env(container):
    env = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = expand(var["value"], env)
        else:
            ref = var["valueFrom"]["configMapKeyRef"]
            env[var["name"]] = CONFIG_MAPS[(ref["name"], ref["key"])]
    return env


def security(spec, container, image):
    pod_sc = spec.get("securityContext") or {}
    sc = container.get("securityContext") or {}
    uid = sc.get("runAsUser", pod_sc.get("runAsUser", image["user"][0]))
    gid = sc.get("runAsGroup", pod_sc.get("runAsGroup", image["user"][1]))
    caps = sc.get("capabilities") or {}
    if caps.get("drop") != ["ALL"]:
        fail("the rehearsal models containers that drop ALL capabilities")
    return {
        "uid": uid,
        "gid": gid,
        "caps": sorted(caps.get("add", [])),
        "no_new_privs": sc.get("allowPrivilegeEscalation") is False,
        "read_only_root": sc.get("readOnlyRootFilesystem") is True,
    }


def host_mounts(spec, container):
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = []
    for m in container.get("volumeMounts", []):
        hp = volumes[m["name"]].get("hostPath")
        if hp is None:
            fail(f"volume {m['name']} is not a hostPath")
        mounts.append({
            "host_path": hp["path"],
            "type": hp.get("type", ""),
            "mount_path": m["mountPath"],
            "read_only": m.get("readOnly", False),
        })
    return mounts


# ----------------------------------------------------------------- the nodes


def under(path, prefix):
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def derive_node(src, dest, worker):
    """Copy snapshot `src` to `dest` without NOT_MOUNTED paths (and, for a
    worker, without what a kubeadm worker lacks)."""
    node = yaml.safe_load((src / "node.yaml").read_text())
    drops = list(NOT_MOUNTED) + (WORKER_DROPS if worker else [])

    def dropped(p):
        if worker and p in WORKER_KEEPS:
            return False
        return any(p.startswith(d) if d.endswith("/") else under(p, d) for d in drops)

    root = src / "root"
    for path in sorted(root.rglob("*")):
        node_path = "/" + str(path.relative_to(root))
        target = dest / "root" / node_path.lstrip("/")
        if path.is_dir() and not path.is_symlink():
            if not dropped(node_path):
                target.mkdir(parents=True, exist_ok=True)
        elif not dropped(node_path):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target, follow_symlinks=False)
    node["files"] = {p: m for p, m in (node.get("files") or {}).items() if not dropped(p)}
    if worker:
        node["processes"] = [
            p for p in node["processes"]
            if os.path.basename(p["cmdline"][0]) in WORKER_PROCESSES
        ]
        node["hostname"] = "node01"
        (dest / "root/etc/hostname").write_text("node01\n")
    (dest / "node.yaml").write_text(yaml.safe_dump(node, sort_keys=False))
    return node


def materialize(snapshot, node, host):
    """The snapshot's files at `host` with its modes and owners."""
    shutil.copytree(snapshot / "root", host, symlinks=True)
    defaults = node.get("defaults") or {}
    files = node.get("files") or {}
    for path in [host, *host.rglob("*")]:
        if path.is_symlink():
            continue
        node_path = "/" + str(path.relative_to(host)) if path != host else "/"
        meta = dict(defaults.get("dir" if path.is_dir() else "file") or {})
        meta.update(files.get(node_path) or {})
        if meta.get("unreadable"):
            fail(f"{snapshot.name}: {node_path} is marked unreadable, which a live node cannot show")
        os.chown(path, meta.get("uid", 0), meta.get("gid", 0), follow_symlinks=False)
        os.chmod(path, int(meta.get("mode", "0755" if path.is_dir() else "0644"), 8))


# ---------------------------------------------- inside the new namespaces


def libc():
    lib = ctypes.CDLL(None, use_errno=True)
    lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return lib


# A dummy node process: it sleeps until killed and ignores its arguments,
# so that its argv (and so /proc/<pid>/cmdline) is exactly the node's.
# Built with rustc at run time, as CI has it and nothing else is needed.
SLEEPER_RS = "fn main() { loop { std::thread::park(); } }\n"


def build_sleeper(tmp):
    src, exe = tmp / "sleeper.rs", tmp / "sleeper"
    src.write_text(SLEEPER_RS)
    subprocess.run(["rustc", "-O", "-o", str(exe), str(src)], check=True)
    return exe


def start_dummies(sleeper, processes):
    """Processes whose /proc/<pid>/cmdline and environ are the node's."""
    started = []
    for p in processes:
        env = {k: str(v) for k, v in (p.get("environ") or {}).items()}
        started.append(subprocess.Popen(p["cmdline"], executable=sleeper, env=env))
    for proc, p in zip(started, processes):
        want = b"".join(a.encode() + b"\0" for a in p["cmdline"])
        for _ in range(200):
            if Path(f"/proc/{proc.pid}/cmdline").read_bytes() == want:
                break
            time.sleep(0.01)
        else:
            fail(f"dummy process for {p['cmdline'][0]} did not start")
    return started


def mount(*args):
    subprocess.run(["mount", *args], check=True)


def run_container(case):
    """PID 1 of the new namespaces: dummies, mounts, the container."""
    img, host = Path(case["img"]), Path(case["host"])
    dummies = start_dummies(case["sleeper"], case["processes"])
    if case["security"]["read_only_root"]:
        mount("--bind", str(img), str(img))
        mount("-o", "remount,bind,ro", str(img))
    for m in case["mounts"]:
        flags = ["--bind"] + (["-o", "ro"] if m["read_only"] else [])
        mount(*flags, str(host / m["host_path"].lstrip("/")), str(img / m["mount_path"].lstrip("/")))
    mount("-t", "proc", "proc", str(img / "proc"))
    mount("--bind", "/dev/null", str(img / "dev/null"))

    sec = case["security"]
    keep = {CAPS.index(c) for c in sec["caps"]}
    last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    out = os.open(case["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:
        try:
            lib = libc()
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.chroot(img)
            os.chdir("/")
            for cap in range(last_cap + 1):
                if cap not in keep and lib.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), f"PR_CAPBSET_DROP {cap}")
            lib.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
            clear_inheritable(lib)
            os.setgroups([])
            os.setresgid(sec["gid"], sec["gid"], sec["gid"])
            # Leaving UID 0 clears the permitted set, as it does for a
            # non-root container: added capabilities do not reach it.
            os.setresuid(sec["uid"], sec["uid"], sec["uid"])
            if sec["no_new_privs"] and lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
            os.execve(case["argv"][0], case["argv"], case["env"])
        except BaseException as e:  # report, never return into the parent's code
            os.write(2, f"rehearsal launcher: {e}\n".encode())
            os._exit(127)
    deadline = time.monotonic() + AUDIT_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            status = None
            break
        time.sleep(0.02)
    for d in dummies:
        d.kill()
    code = "timed out" if status is None else os.waitstatus_to_exitcode(status)
    Path(case["result"]).write_text(json.dumps({"status": code}))


def clear_inheritable(lib):
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(LINUX_CAPABILITY_VERSION_3, 0)
    data = (Data * 2)()
    if lib.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    for d in data:
        d.inheritable = 0
    if lib.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


# ------------------------------------------------------------- one case


def build_image_root(img, binary, image, mounts, host):
    """What the container sees before its volumes: the image's files, plus
    the mount points and /proc and /dev/null the runtime adds."""
    dest = img / image["binary_path"].lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(binary, dest)
    os.chmod(dest, 0o755)
    (img / "proc").mkdir()
    (img / "dev").mkdir()
    (img / "dev/null").touch()
    for m in mounts:
        source = host / m["host_path"].lstrip("/")
        point = img / m["mount_path"].lstrip("/")
        if m["type"] == "Directory":
            if not source.is_dir():
                if m["host_path"] in ALWAYS_ON_NODE:
                    source.mkdir(parents=True)
                else:
                    raise NodeLacks(m["host_path"])
            point.mkdir(parents=True, exist_ok=True)
        elif m["type"] == "File":
            if not source.is_file():
                raise NodeLacks(m["host_path"])
            point.parent.mkdir(parents=True, exist_ok=True)
            point.touch()
        else:
            fail(f"hostPath {m['host_path']} has no type: a runtime would create it on a node without it")


class NodeLacks(Exception):
    pass


def rehearse(binary, sleeper, image, template, snapshot_dir, node, work, sec_override=None, extra_args=()):
    manifest, name, spec, container, _ = template
    env = container_env(container)
    args = [expand(a, env) for a in container.get("args", [])] + list(extra_args)
    command = container.get("command") or image["entrypoint"]
    mounts = host_mounts(spec, container)
    sec = security(spec, container, image)
    if sec_override:
        sec.update(sec_override)
    if not spec.get("hostPID"):
        fail(f"{manifest} {name}: without hostPID the container cannot see the node's processes")

    work.mkdir(parents=True)
    host, img = work / "host", work / "img"
    materialize(snapshot_dir, node, host)
    build_image_root(img, binary, image, mounts, host)
    case = {
        "img": str(img), "host": str(host), "mounts": mounts, "security": sec,
        "processes": node["processes"], "sleeper": str(sleeper),
        "argv": [*command, *args],
        "env": {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOSTNAME": f"{name}-rehearsal", **env},
        "stdout": str(work / "pod.out"), "stderr": str(work / "pod.err"),
        "result": str(work / "result.json"),
    }
    (work / "case.json").write_text(json.dumps(case))
    subprocess.run(
        ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private",
         sys.executable, __file__, "--inside", str(work / "case.json")],
        check=True,
    )
    result = json.loads((work / "result.json").read_text())
    pod = {"status": result["status"],
           "stdout": Path(case["stdout"]).read_text(), "stderr": Path(case["stderr"]).read_text()}

    snap_args = []
    it = iter(args)
    for a in it:
        if a == "--host-root":
            next(it)
            snap_args += ["--snapshot", str(snapshot_dir)]
        else:
            snap_args.append(a)
    if "--snapshot" not in snap_args:
        fail(f"{manifest} {name}: args do not pass --host-root")
    snap = subprocess.run([str(binary), *snap_args], capture_output=True, text=True)
    return pod, {"status": snap.returncode, "stdout": snap.stdout, "stderr": snap.stderr}


def normalize(text, is_json):
    """Reports of the same node, live and from a snapshot, differ only in
    process IDs and in the `kubecis` block that says what was audited."""
    if is_json:
        doc = json.loads(text)
        doc.pop("kubecis", None)

        def walk(v):
            if isinstance(v, dict):
                return {k: 0 if k == "pid" else walk(x) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x) for x in v]
            if isinstance(v, str):
                return re.sub(r"pid \d+", "pid N", v)
            return v
        return json.dumps(walk(doc), indent=1, sort_keys=True)
    return re.sub(r"pid \d+", "pid N", text)


def results(text):
    """test_number -> (status, reason) of a JSON report."""
    out = {}
    for c in json.loads(text)["Controls"]:
        for g in c["tests"]:
            for r in g["results"]:
                out[r["test_number"]] = (r["status"], r.get("reason", ""))
    return out


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines())):
        if x != y:
            return f"line {i + 1}:\n  pod:      {x[:300]}\n  snapshot: {y[:300]}"
    return "one report is longer"


# ----------------------------------------------------------------- main


def main(binary):
    if os.geteuid() != 0:
        fail("needs root (mount and PID namespaces)")
    binary = Path(binary).resolve()
    image = image_from_dockerfile()
    templates = pod_templates()
    tmp = Path(tempfile.mkdtemp(prefix="kubecis-rehearsal-"))
    failures = []
    try:
        sleeper = build_sleeper(tmp)
        nodes = {}
        for name in ["kubeadm-sample", "kubeadm-hardened", "kubeadm-insecure"]:
            nodes[("control-plane", name)] = derive_node(NODES / name, tmp / "nodes" / name, worker=False)
        nodes[("worker", "kubeadm-sample-worker")] = derive_node(
            NODES / "kubeadm-sample", tmp / "nodes" / "kubeadm-sample-worker", worker=True)

        n = 0
        for template in templates:
            manifest, name, _, container, role = template
            for (node_role_, node_name), node in nodes.items():
                if node_role_ != role:
                    continue
                n += 1
                label = f"{manifest} {name} on {node_name}"
                try:
                    pod, snap = rehearse(binary, sleeper, image, template, tmp / "nodes" / node_name, node, tmp / f"case{n}")
                except NodeLacks as e:
                    failures.append(f"{label}: the node lacks {e}, so the pod would not start")
                    continue
                is_json = "--json" in container.get("args", [])
                if pod["status"] != 0 or snap["status"] != 0:
                    failures.append(f"{label}: exit status pod {pod['status']}, snapshot {snap['status']}\n{pod['stderr']}{snap['stderr']}")
                    continue
                if normalize(pod["stdout"], is_json) != normalize(snap["stdout"], is_json):
                    failures.append(f"{label}: the pod's report differs from the snapshot's at "
                                    + first_difference(normalize(pod["stdout"], is_json), normalize(snap["stdout"], is_json)))
                    continue
                if is_json:
                    meta = json.loads(pod["stdout"])["kubecis"]
                    if meta["hostname"] != node["hostname"]:
                        failures.append(f"{label}: host name {meta['hostname']!r}, node is {node['hostname']!r}")
                    if "processes from /proc" not in meta["host"]:
                        failures.append(f"{label}: processes not read from /proc: {meta['host']}")
                checks = len(results(pod["stdout"])) if is_json else len(
                    re.findall(r"^\[(?:PASS|FAIL|WARN|INFO)\] \d+\.\d+", pod["stdout"], re.M))
                print(f"pod-rehearsal: ok  {label}: same report as --snapshot ({checks} checks)")

        failures += controls(binary, sleeper, image, templates, nodes, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print(f"pod-rehearsal: FAIL {f}", file=sys.stderr)
    if failures:
        sys.exit(1)


def controls(binary, sleeper, image, templates, nodes, tmp):
    """The job's pod with less than it asks for must lose checks to WARN
    (never to a wrong PASS or FAIL)."""
    job = next(t for t in templates if t[0] == Path("job.yaml"))
    failures = []
    variants = [
        ("without CAP_SYS_PTRACE", "kubeadm-insecure", {"caps": []}, "CAP_SYS_PTRACE"),
        ("as UID 65532 (the image's default user)", "kubeadm-hardened",
         {"uid": image["user"][0], "gid": image["user"][1]}, "ermission denied"),
    ]
    for i, (what, node_name, override, reason_word) in enumerate(variants):
        label = f"job.yaml {what} on {node_name}"
        node = nodes[("control-plane", node_name)]
        version = ["--version", "1.32"] if "uid" in override else []
        pod, snap = rehearse(binary, sleeper, image, job, tmp / "nodes" / node_name, node,
                             tmp / f"control{i}", sec_override=override, extra_args=["--json", *version])
        if pod["status"] != 0:
            failures.append(f"{label}: exit status {pod['status']}: {pod['stderr']}")
            continue
        got, want = results(pod["stdout"]), results(snap["stdout"])
        changed = {k: (got[k], want[k]) for k in want if got.get(k, ("",))[0] != want[k][0]}
        wrong = {k: v for k, v in changed.items() if v[0][0] != "WARN"}
        if not changed:
            failures.append(f"{label}: nothing changed, so the manifest asks for more than it needs")
        elif wrong:
            failures.append(f"{label}: checks changed to something other than WARN: {wrong}")
        elif not any(reason_word in g[1] for g, _ in changed.values()):
            failures.append(f"{label}: no WARN says {reason_word!r}: {changed}")
        else:
            print(f"pod-rehearsal: ok  {label}: {len(changed)} checks turn to WARN "
                  f"({', '.join(sorted(changed)[:8])}{', ...' if len(changed) > 8 else ''})")
    return failures


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        run_container(json.loads(Path(sys.argv[2]).read_text()))
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
