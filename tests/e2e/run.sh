#!/usr/bin/env bash
# End-to-end test: builds a kubeadm v1.32 control plane node (real PKI, a real
# etcd with TLS, the other components as processes carrying their real command
# lines) inside new mount, PID and network namespaces, audits it with kubecis
# as root with / as host root, with the whole root bound under another path,
# and in a kubecis Job's layout, and compares every verdict with
# tests/e2e/expect/<variant>.yaml. Nothing on the machine changes: the node's
# files are mounted over the real paths only inside the mount namespace, and
# every process dies with the PID namespace.
#
#   sudo tests/e2e/run.sh target/release/kubecis [VARIANT...]
#
# VARIANT: hardened, kubeadm-default (default: both). KUBECIS_E2E_KEEP=1 keeps
# the reports directory even when everything matches. docs/e2e.md explains it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() { echo "e2e: $*" >&2; exit 2; }

[ $# -ge 1 ] || die "usage: $0 PATH-TO-KUBECIS [hardened|kubeadm-default ...]"
kubecis="$(realpath "$1")"
shift
[ -x "$kubecis" ] || die "$kubecis is not an executable"
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(hardened kubeadm-default)
for v in "${variants[@]}"; do
  [ -f "$here/expect/$v.yaml" ] || die "unknown variant $v (no $here/expect/$v.yaml)"
done

[ "$(id -u)" -eq 0 ] || die "needs root (mount and PID namespaces); run it with sudo"
for tool in unshare mount ip openssl python3 etcd etcdctl rustc; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install util-linux iproute2 openssl python3 etcd-server etcd-client; rustc from rustup)"
done

export PYTHONDONTWRITEBYTECODE=1
scratch="$(mktemp -d /tmp/kubecis-e2e.XXXXXX)"
keep="${KUBECIS_E2E_KEEP:-}"
cleanup() {
  # The namespaces are gone once unshare returns; only the scratch
  # directory (reports, and the empty tmpfs mount points) is left.
  if [ -z "$keep" ]; then rm -rf "$scratch"; else echo "e2e: reports kept in $scratch" >&2; fi
}
trap cleanup EXIT

rustc --edition 2021 -O -o "$scratch/dummy" "$here/dummy.rs"

status=0
for v in "${variants[@]}"; do
  out="$scratch/$v"
  mkdir -p "$out" "$scratch/$v-work"
  start=$(date +%s%3N)
  # --kill-child: if unshare is killed (timeout, ^C), its child, PID 1 of the
  # new namespace, is killed too, and with it every process of the node.
  if ! timeout --signal=TERM 180 unshare --mount --pid --net --fork --mount-proc --kill-child \
      python3 "$here/node.py" --variant "$v" --kubecis "$kubecis" --dummy "$scratch/dummy" \
      --repo "$repo" --work "$scratch/$v-work" --out "$out"; then
    echo "e2e: $v: building or auditing the node failed (see above)" >&2
    status=1
    keep=1
    continue
  fi
  elapsed_ms=$(( $(date +%s%3N) - start ))
  if python3 "$here/check.py" --variant "$v" --expect "$here/expect/$v.yaml" --reports "$out" \
      2>"$out/mismatches.txt"; then
    echo "e2e: $v: every verdict matches (node built and audited in ${elapsed_ms} ms:" \
      "$(python3 -c 'import json,sys; print(", ".join(f"{k} {v} s" for k, v in json.load(open(sys.argv[1]))["seconds"].items()))' "$out/node.json"))"
  else
    status=1
    keep=1
    # The report first, so the list of mismatches ends the output.
    echo "---- kubecis text report of the $v node (host root /, --include-test-output) ----" >&2
    cat "$out/root-text.txt" >&2
    echo "---- kubecis stderr ----" >&2
    cat "$out/root.stderr" >&2
    echo "----" >&2
    cat "$out/mismatches.txt" >&2
  fi
done
exit $status
