#!/usr/bin/env python3
"""Builds a kubeadm v1.32 control plane node inside the namespaces run.sh
made for it, then audits it with kubecis three ways and writes the reports.

Runs as PID 1 of new mount, PID and network namespaces (run.sh starts it with
`unshare --mount --pid --net --fork --mount-proc`) and refuses to run
anywhere else: every mount it makes is private to that mount namespace, every
process it starts dies with the PID namespace, and its state lives in a tmpfs
that goes away with it. The only files it writes outside that tmpfs are the
reports in --out.

The node's files come from the kubeadm snapshots in tests/fixtures/nodes (the
manifests, the kubelet and kube-proxy configs, the hardening files) and from
the kubeadm packages' systemd unit in tests/fixtures/e2e; certificates and
keys are made here with openssl. etcd is the real etcd binary started with
the command of its static pod manifest; the other components are dummies
whose /proc/<pid>/cmdline is exactly their real command line.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import time

NODE_IP = "172.30.1.2"
NODE_NAME = "controlplane"
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# kubeadm 1.32 images (kubeadm constants for v1.32.0).
IMAGES = {
    "v1.29.0": "v1.32.0",
    "etcd:3.5.10-0": "etcd:3.5.16-0",
}
MANIFESTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
# Top-level keys the hardened kubelet config adds to kubeadm's (see
# tests/fixtures/SOURCES.md); kubeadm's own config is the hardened one without
# them.
KUBELET_HARDENING_KEYS = [
    "podPidsLimit",
    "seccompDefault",
    "tlsCertFile",
    "tlsPrivateKeyFile",
    "tlsCipherSuites",
]
ETCD_UID = 999
# Paths of the node that this script provides, mounted over the machine's own
# inside the mount namespace. Directories end with a slash.
NODE_PATHS = [
    "/etc/kubernetes/",
    "/etc/passwd",
    "/etc/group",
    "/etc/hostname",
    "/etc/default/kubelet",
    "/etc/systemd/system/",
    "/usr/lib/systemd/system/",
    "/var/lib/kubelet/",
    "/var/lib/etcd/",
]
# Where a missing mount point is made: an overlay over this directory, whose
# upper layer lives in the tmpfs.
OVERLAY_ROOTS = ["/etc", "/var/lib", "/usr/lib"]
# What a kubecis Job mounts from the host (read-only, each at /host<path>).
JOB_PATHS = [
    "/etc/kubernetes",
    "/etc/passwd",
    "/etc/group",
    "/etc/hostname",
    "/etc/systemd",
    "/lib/systemd",
    "/usr/lib/systemd",
    "/var/lib/kubelet",
    "/var/lib/etcd",
]


def fail(msg):
    print(f"e2e node: {msg}", file=sys.stderr)
    sys.exit(1)


def run(*argv, **kw):
    """Run a command; its failure stops the node build with its output."""
    p = subprocess.run(list(argv), capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail(f"`{' '.join(argv)}` exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p.stdout


def write(path, text, mode=0o644, uid=0, gid=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    os.chown(path, uid, gid)


def mkdir(path, mode=0o755, uid=0, gid=0):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    os.chown(path, uid, gid)


# --- PKI ---------------------------------------------------------------------


class Pki:
    """kubeadm's certificate layout: RSA 2048 keys (mode 600), certificates
    (mode 644) signed by the cluster, etcd and front-proxy CAs."""

    def __init__(self, root):
        self.root = root
        self.ext = os.path.join(root, ".ext")

    def keys(self, names):
        """Make the RSA keys of `names` at once, on every core: key
        generation is most of the node's build time."""
        paths = [self._paths(n)[0] for n in names]
        width = os.cpu_count() or 1
        for i in range(0, len(paths), width):
            batch = [
                subprocess.Popen(
                    ["openssl", "genrsa", "-out", p, "2048"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                )
                for p in paths[i:i + width]
            ]
            for p, proc in zip(paths[i:i + width], batch):
                if proc.wait() != 0:
                    fail(f"openssl genrsa {p}: {proc.stderr.read().decode()}")
        for p in paths:
            os.chmod(p, 0o600)

    def ca(self, name, cn):
        key, crt = self._paths(name)
        run(
            "openssl", "req", "-x509", "-key", key,
            "-out", crt, "-days", "3650", "-subj", f"/CN={cn}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        )
        self._modes(key, crt)

    def leaf(self, name, ca, subject, usage, sans=()):
        key, crt = self._paths(name)
        ca_key, ca_crt = self._paths(ca)
        ext = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            f"extendedKeyUsage={usage}",
        ]
        if sans:
            ext.append("subjectAltName=" + ",".join(sans))
        write(self.ext, "\n".join(ext) + "\n", 0o600)
        csr = run("openssl", "req", "-new", "-key", key, "-subj", subject)
        serial = "0x" + os.urandom(8).hex()
        run(
            "openssl", "x509", "-req", "-CA", ca_crt, "-CAkey", ca_key,
            "-set_serial", serial, "-days", "365", "-extfile", self.ext,
            "-out", crt, input=csr,
        )
        os.unlink(self.ext)
        self._modes(key, crt)

    def _paths(self, name):
        base = name if name.startswith("/") else os.path.join(self.root, name)
        return base + ".key", base + ".crt"

    @staticmethod
    def _modes(key, crt):
        os.chmod(key, 0o600)
        os.chmod(crt, 0o644)

    def text(self, name, ext):
        with open(self._paths(name)[1 if ext == "crt" else 0]) as f:
            return f.read()


def make_pki(node, variant):
    pki_dir = f"{node}/etc/kubernetes/pki"
    mkdir(f"{pki_dir}/etcd")
    pki = Pki(pki_dir)
    server_sans = [
        f"DNS:{NODE_NAME}", "DNS:kubernetes", "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
        "IP:10.96.0.1", f"IP:{NODE_IP}",
    ]
    etcd_sans = [f"DNS:{NODE_NAME}", "DNS:localhost", f"IP:{NODE_IP}", "IP:127.0.0.1", "IP:::1"]
    client_dir = f"{node}/../clients"
    mkdir(client_dir, 0o700)
    kubelet_pki = f"{node}/var/lib/kubelet/pki"
    mkdir(kubelet_pki)
    clients = {
        "admin": "/O=kubeadm:cluster-admins/CN=kubernetes-admin",
        "super-admin": "/O=system:masters/CN=kubernetes-super-admin",
        "controller-manager": "/CN=system:kube-controller-manager",
        "scheduler": "/CN=system:kube-scheduler",
        "kubelet": f"/O=system:nodes/CN=system:node:{NODE_NAME}",
    }
    serving = f"{kubelet_pki}/kubelet-serving" if variant == "hardened" else f"{kubelet_pki}/kubelet"
    pki.keys(
        ["ca", "apiserver", "apiserver-kubelet-client", "front-proxy-ca", "front-proxy-client",
         "etcd/ca", "etcd/server", "etcd/peer", "etcd/healthcheck-client",
         "apiserver-etcd-client", "sa", serving]
        + [f"{client_dir}/{name}" for name in clients]
    )
    pki.ca("ca", "kubernetes")
    pki.leaf("apiserver", "ca", "/CN=kube-apiserver", "serverAuth", server_sans)
    pki.leaf(
        "apiserver-kubelet-client", "ca",
        "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client", "clientAuth",
    )
    pki.ca("front-proxy-ca", "front-proxy-ca")
    pki.leaf("front-proxy-client", "front-proxy-ca", "/CN=front-proxy-client", "clientAuth")
    pki.ca("etcd/ca", "etcd-ca")
    pki.leaf("etcd/server", "etcd/ca", f"/CN={NODE_NAME}", "serverAuth,clientAuth", etcd_sans)
    pki.leaf("etcd/peer", "etcd/ca", f"/CN={NODE_NAME}", "serverAuth,clientAuth", etcd_sans)
    pki.leaf("etcd/healthcheck-client", "etcd/ca", "/CN=kube-etcd-healthcheck-client", "clientAuth")
    pki.leaf("apiserver-etcd-client", "etcd/ca", "/CN=kube-apiserver-etcd-client", "clientAuth")
    run("openssl", "rsa", "-in", f"{pki_dir}/sa.key", "-pubout", "-out", f"{pki_dir}/sa.pub")
    os.chmod(f"{pki_dir}/sa.key", 0o600)
    os.chmod(f"{pki_dir}/sa.pub", 0o644)

    # Kubeconfig client certificates live only inside the kubeconfigs.
    for name, subject in clients.items():
        pki.leaf(f"{client_dir}/{name}", "ca", subject, "clientAuth")
    ca_data = b64(pki.text("ca", "crt"))
    users = {
        "admin": "kubernetes-admin",
        "super-admin": "kubernetes-super-admin",
        "controller-manager": "system:kube-controller-manager",
        "scheduler": "system:kube-scheduler",
    }
    for name, user in users.items():
        write(
            f"{node}/etc/kubernetes/{name}.conf",
            kubeconfig(ca_data, user, {
                "client-certificate-data": b64(pki.text(f"{client_dir}/{name}", "crt")),
                "client-key-data": b64(pki.text(f"{client_dir}/{name}", "key")),
            }),
            0o600,
        )
    # The kubelet's client certificate is rotated into /var/lib/kubelet/pki.
    stamp = "kubelet-client-2025-01-01-00-00-00.pem"
    write(
        f"{kubelet_pki}/{stamp}",
        pki.text(f"{client_dir}/kubelet", "crt") + pki.text(f"{client_dir}/kubelet", "key"),
        0o600,
    )
    os.symlink(f"/var/lib/kubelet/pki/{stamp}", f"{kubelet_pki}/kubelet-client-current.pem")
    write(
        f"{node}/etc/kubernetes/kubelet.conf",
        kubeconfig(ca_data, f"system:node:{NODE_NAME}", {
            "client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem",
            "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem",
        }),
        0o600,
    )
    if variant == "hardened":
        # A serving certificate signed by the cluster CA (tlsCertFile).
        pki.leaf(
            serving, "ca", f"/O=system:nodes/CN=system:node:{NODE_NAME}",
            "serverAuth", [f"DNS:{NODE_NAME}", f"IP:{NODE_IP}"],
        )
    else:
        # The kubelet's own self-signed serving certificate.
        key, crt = f"{serving}.key", f"{serving}.crt"
        run(
            "openssl", "req", "-x509", "-key", key, "-out", crt, "-days", "365", "-subj", f"/CN={NODE_NAME}-ca@1735689600",
            "-addext", f"subjectAltName=DNS:{NODE_NAME}",
        )
        os.chmod(key, 0o600)
        os.chmod(crt, 0o644)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def kubeconfig(ca_data, user, creds):
    cred_lines = "".join(f"    {k}: {v}\n" for k, v in creds.items())
    return (
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        f"    certificate-authority-data: {ca_data}\n"
        f"    server: https://{NODE_IP}:6443\n"
        "  name: kubernetes\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: kubernetes\n"
        f"    user: {user}\n"
        f"  name: {user}@kubernetes\n"
        f"current-context: {user}@kubernetes\n"
        "kind: Config\n"
        "preferences: {}\n"
        "users:\n"
        f"- name: {user}\n"
        "  user:\n"
        f"{cred_lines}"
    )


# --- node files --------------------------------------------------------------


def read(path):
    with open(path) as f:
        return f.read()


def kubeadm_text(text):
    for old, new in IMAGES.items():
        text = text.replace(old, new)
    return text


def drop_top_level_keys(text, keys):
    """Remove top-level `key:` entries (and their indented or list
    continuation lines) from a block-style YAML document."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        top = not line.startswith((" ", "-"))
        if top:
            skipping = line.split(":", 1)[0] in keys
        if not skipping:
            out.append(line)
    return "".join(out)


def make_files(repo, node, proxy_dir, variant):
    fixtures = f"{repo}/tests/fixtures"
    hardened = f"{fixtures}/nodes/kubeadm-hardened/root"
    sample = f"{fixtures}/nodes/kubeadm-sample/root"
    h = variant == "hardened"
    secret = 0o600

    # /etc/kubernetes: kubeadm writes the manifests 600 root:root.
    mkdir(f"{node}/etc/kubernetes/manifests")
    for m in MANIFESTS:
        src = f"{hardened if h else sample}/etc/kubernetes/manifests/{m}.yaml"
        write(f"{node}/etc/kubernetes/manifests/{m}.yaml", kubeadm_text(read(src)), secret)
    if h:
        for d, mode in [("admission", 0o755), ("audit", 0o755), ("enc", 0o700)]:
            mkdir(f"{node}/etc/kubernetes/{d}", mode)
            for name in os.listdir(f"{hardened}/etc/kubernetes/{d}"):
                write(
                    f"{node}/etc/kubernetes/{d}/{name}",
                    read(f"{hardened}/etc/kubernetes/{d}/{name}"),
                    secret,
                )

    # Accounts: the hardened node has a system user and group etcd.
    passwd, group = read(f"{hardened}/etc/passwd"), read(f"{hardened}/etc/group")
    if not h:
        passwd = "".join(l for l in passwd.splitlines(True) if not l.startswith("etcd:"))
        group = "".join(l for l in group.splitlines(True) if not l.startswith("etcd:"))
    write(f"{node}/etc/passwd", passwd)
    write(f"{node}/etc/group", group)
    write(f"{node}/etc/hostname", NODE_NAME + "\n")

    # The kubelet unit of the kubelet and kubeadm packages (pkgs.k8s.io,
    # Debian layout), 644 as packaged, 600 when hardened.
    unit_mode = secret if h else 0o644
    mkdir(f"{node}/etc/systemd/system")
    units = f"{fixtures}/e2e/usr/lib/systemd/system"
    mkdir(f"{node}/usr/lib/systemd/system/kubelet.service.d")
    for rel in ["kubelet.service", "kubelet.service.d/10-kubeadm.conf"]:
        write(f"{node}/usr/lib/systemd/system/{rel}", read(f"{units}/{rel}"), unit_mode)
    write(f"{node}/etc/default/kubelet", read(f"{fixtures}/e2e/etc/default/kubelet"))

    # /var/lib/kubelet: kubeadm writes config.yaml 644; hardened 600.
    config = read(f"{hardened}/var/lib/kubelet/config.yaml")
    if not h:
        config = drop_top_level_keys(config, KUBELET_HARDENING_KEYS)
    write(f"{node}/var/lib/kubelet/config.yaml", config, secret if h else 0o644)
    write(
        f"{node}/var/lib/kubelet/kubeadm-flags.env",
        read(f"{hardened}/var/lib/kubelet/kubeadm-flags.env"),
    )

    # etcd's data directory: kubeadm makes it 700 root:root; hardened
    # hands it to the etcd user.
    owner = ETCD_UID if h else 0
    mkdir(f"{node}/var/lib/etcd", 0o700, owner, owner)

    # kube-proxy's ConfigMap volume, seen only inside its own container. On
    # kubeadm its metrics listen on the default address ("" in the ConfigMap).
    proxy_conf = read(f"{hardened}/var/lib/kube-proxy/config.conf")
    if not h:
        proxy_conf = proxy_conf.replace(
            "metricsBindAddress: 127.0.0.1:10249", 'metricsBindAddress: ""'
        )
    mkdir(proxy_dir)
    write(f"{proxy_dir}/config.conf", proxy_conf)
    write(f"{proxy_dir}/kubeconfig.conf", read(f"{hardened}/var/lib/kube-proxy/kubeconfig.conf"))


# --- mounts ------------------------------------------------------------------


def mount_node(work, node):
    """Put the node's files at their real paths, inside this mount namespace
    only. A mount point missing on the machine is made in an overlay over
    its parent, whose writable layer is in the tmpfs."""
    overlaid = set()
    for p in NODE_PATHS:
        path = p.rstrip("/")
        if os.path.lexists(path):
            continue
        root = next((r for r in OVERLAY_ROOTS if path.startswith(r + "/")), None)
        if root is None:
            fail(f"{path} does not exist and has no overlay root")
        if root not in overlaid:
            layer = f"{work}/overlay{root.replace('/', '-')}"
            for d in ["upper", "work"]:
                mkdir(f"{layer}/{d}")
            run(
                "mount", "-t", "overlay", "overlay", "-o",
                f"lowerdir={root},upperdir={layer}/upper,workdir={layer}/work", root,
            )
            overlaid.add(root)
        if p.endswith("/"):
            os.makedirs(path)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
    for p in NODE_PATHS:
        path = p.rstrip("/")
        run("mount", "--bind", f"{node}{path}", path)


def mount_job_layout(work):
    """The layout of a kubecis Job: the host paths it reads, bound read-only
    under one prefix, and no /proc there (with hostPID the pod's own /proc is
    the host's)."""
    host = f"{work}/job"
    for path in JOB_PATHS:
        target = f"{host}{path}"
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "w").close()
        # A container runtime binds hostPath volumes recursively (rbind),
        # so mounts below a path come along.
        run("mount", "--rbind", path, target)
        run("mount", "-o", "remount,bind,ro", target)
    return host


def mount_rbind_layout(work):
    """The whole root, recursively bound read-only under another path: /proc
    comes along, so kubecis reads processes from <host root>/proc."""
    host = f"{work}/rbind"
    os.makedirs(host)
    run("mount", "--rbind", "/", host)
    run("mount", "-o", "remount,bind,ro", host)
    return host


# --- processes ---------------------------------------------------------------


def manifest_command(path):
    """The `command` list of a kubeadm static pod manifest (block style, one
    item per line, as kubeadm writes it)."""
    argv, inside = [], False
    for line in read(path).splitlines():
        stripped = line.strip()
        if stripped == "- command:":
            inside = True
            # Items sit two columns right of the `- ` that opens the container.
            indent = len(line) - len(line.lstrip()) + 2
            continue
        if inside:
            if stripped.startswith("- ") and len(line) - len(line.lstrip()) == indent:
                argv.append(stripped[2:])
            else:
                break
    if not argv:
        fail(f"{path} has no command list")
    return argv


def unit_command(unit, drop_ins):
    """The kubelet's command line as systemd builds it from the unit and its
    drop-ins: Environment= and EnvironmentFile= set variables, the last
    ExecStart= wins, unquoted $VAR splits on whitespace."""
    env, exec_start = {}, None
    for path in [unit] + drop_ins:
        for line in read(path).splitlines():
            key, _, value = line.partition("=")
            if key == "Environment":
                name, _, v = value.strip('"').partition("=")
                env[name] = v
            elif key == "EnvironmentFile":
                env_file = value.lstrip("-")
                if os.path.exists(env_file):
                    for l in read(env_file).splitlines():
                        if "=" in l and not l.startswith("#"):
                            name, _, v = l.partition("=")
                            env[name] = v.strip('"')
            elif key == "ExecStart":
                exec_start = value or None
    argv = []
    for word in exec_start.split():
        if word.startswith("$"):
            argv.extend(env.get(word[1:], "").split())
        else:
            argv.append(word)
    return argv


def start(argv, executable, **kw):
    """Start `executable` with exactly `argv` (argv[0] included) in a clean
    environment."""
    return subprocess.Popen(
        argv, executable=executable, env={"PATH": PATH_ENV},
        stdin=subprocess.DEVNULL, **kw,
    )


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        raw = f.read()
    return [a.decode() for a in raw.rstrip(b"\0").split(b"\0")]


def wait_for_etcd(etcd, log_path):
    pki = "/etc/kubernetes/pki/etcd"
    probe = [
        "etcdctl", f"--endpoints=https://127.0.0.1:2379,https://{NODE_IP}:2379",
        f"--cacert={pki}/ca.crt", f"--cert={pki}/healthcheck-client.crt",
        f"--key={pki}/healthcheck-client.key", "--command-timeout=2s", "endpoint", "health",
    ]
    deadline = time.monotonic() + 30
    last = ""
    while time.monotonic() < deadline:
        if etcd.poll() is not None:
            fail(f"etcd exited with {etcd.returncode}; its log:\n{read(log_path)[-4000:]}")
        p = subprocess.run(probe, capture_output=True, text=True, env={"PATH": PATH_ENV})
        if p.returncode == 0:
            return p.stdout + p.stderr
        last = p.stdout + p.stderr
        time.sleep(0.2)
    fail(f"etcd did not become healthy in 30 s: {last}\netcd log:\n{read(log_path)[-4000:]}")


def start_node(work, dummy, proxy_dir):
    procs = {}
    manifests = "/etc/kubernetes/manifests"
    argv = manifest_command(f"{manifests}/etcd.yaml")
    etcd_log = f"{work}/etcd.log"
    with open(etcd_log, "w") as log:
        procs["etcd"] = (start(argv, shutil.which("etcd"), stdout=log, stderr=log), argv)
    for m in ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]:
        argv = manifest_command(f"{manifests}/{m}.yaml")
        procs[m] = (start(argv, dummy), argv)
    units = "/usr/lib/systemd/system"
    argv = unit_command(
        f"{units}/kubelet.service", [f"{units}/kubelet.service.d/10-kubeadm.conf"]
    )
    procs["kubelet"] = (start(argv, dummy), argv)
    # kube-proxy runs in its DaemonSet pod: its own mount namespace, where
    # the ConfigMap is mounted at /var/lib/kube-proxy over the image's
    # /var/lib; the node itself has no /var/lib/kube-proxy.
    argv = [
        "/usr/local/bin/kube-proxy",
        "--config=/var/lib/kube-proxy/config.conf",
        f"--hostname-override={NODE_NAME}",
    ]
    script = (
        "set -e; mount -t tmpfs -o mode=755 image-var-lib /var/lib; "
        "mkdir /var/lib/kube-proxy; mount --bind -o ro \"$1\" /var/lib/kube-proxy; "
        'shift; exec -a "$@"'
    )
    procs["kube-proxy"] = (
        start(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", script,
             "kube-proxy-pod", proxy_dir, argv[0], dummy] + argv[1:],
            shutil.which("unshare"),
        ),
        argv,
    )
    health = wait_for_etcd(procs["etcd"][0], etcd_log)
    # Every process must show exactly its intended command line before the
    # audit (kube-proxy's shell has exec'd the dummy by then).
    deadline = time.monotonic() + 10
    pids = {}
    for name, (p, argv) in procs.items():
        while True:
            if p.poll() is not None:
                fail(f"{name} exited with {p.returncode} before the audit")
            seen = cmdline(p.pid)
            if seen == argv:
                break
            if time.monotonic() > deadline:
                fail(f"{name} (pid {p.pid}) shows {seen}, expected {argv}")
            time.sleep(0.05)
        pids[name] = p.pid
    return pids, health.strip()


# --- audits ------------------------------------------------------------------


def audit(kubecis, out, name, args):
    res = subprocess.run(
        [kubecis] + args, capture_output=True, env={"PATH": PATH_ENV}, cwd="/"
    )
    with open(f"{out}/{name}.json" if "--json" in args else f"{out}/{name}.txt", "wb") as f:
        f.write(res.stdout)
    with open(f"{out}/{name}.stderr", "wb") as f:
        f.write(res.stderr)
    with open(f"{out}/{name}.status", "w") as f:
        f.write(f"{res.returncode}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", required=True, choices=["hardened", "kubeadm-default"])
    ap.add_argument("--kubecis", required=True)
    ap.add_argument("--dummy", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if os.getpid() != 1:
        fail("must run as PID 1 of its own namespaces; start it through tests/e2e/run.sh")

    run("mount", "--make-rprivate", "/")
    run("mount", "-t", "tmpfs", "-o", "mode=700", "e2e-node", a.work)
    run("ip", "link", "set", "lo", "up")
    run("ip", "addr", "add", f"{NODE_IP}/32", "dev", "lo")

    node = f"{a.work}/node"
    proxy_dir = f"{a.work}/kube-proxy-configmap"
    seconds, t = {}, time.monotonic()

    def lap(name):
        nonlocal t
        now = time.monotonic()
        seconds[name] = round(now - t, 3)
        t = now

    make_pki(node, a.variant)
    lap("pki")
    make_files(a.repo, node, proxy_dir, a.variant)
    mount_node(a.work, node)
    lap("files and mounts")
    pids, health = start_node(a.work, a.dummy, proxy_dir)
    lap("processes, until etcd is healthy")
    audit(a.kubecis, a.out, "root", ["--json"])
    audit(a.kubecis, a.out, "root-text", ["--include-test-output", "--color", "never"])
    audit(a.kubecis, a.out, "rbind", ["--host-root", mount_rbind_layout(a.work), "--json"])
    audit(a.kubecis, a.out, "job", ["--host-root", mount_job_layout(a.work), "--json"])
    lap("four kubecis runs")
    with open(f"{a.out}/node.json", "w") as f:
        json.dump({"pids": pids, "etcd_health": health, "seconds": seconds}, f, indent=1)
    # Leaving ends the PID namespace: the kernel kills etcd and the dummies.


if __name__ == "__main__":
    main()
