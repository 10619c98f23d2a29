#!/usr/bin/env bash
# Peer benchmark, not part of CI: `seclab scan netpol --output connlist`
# (release build) against np-guard's network-config-analyzer
# (`nca --connectivity`, Python, from PyPI) on one generated cluster of 500
# pods (50 ReplicaSets of 10, 2 namespaces) and 100 NetworkPolicies
# (a default deny per namespace; selectors with matchExpressions and
# namespaceSelectors, named ports, port ranges, ipBlocks with except).
#
#   benches/netpol_vs_nca.sh            # installs nca into a temporary venv
#   NCA=/path/to/nca benches/netpol_vs_nca.sh   # use an installed nca
#   PODS=5000 POLICIES=1000 RUNS=3 benches/netpol_vs_nca.sh
#
# Needs: cargo, python3 (with venv), network access to PyPI unless NCA is set.
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${PODS:-500}
POLICIES=${POLICIES:-100}
RUNS=${RUNS:-5}
NCA_RUNS=${NCA_RUNS:-3}
WORK=$(mktemp -d)
# KEEP=1 keeps the generated cluster (and the venv) for a closer look.
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; else echo "keeping $WORK"; fi

echo "== building seclab (release)"
cargo build --release --quiet
SECLAB=$PWD/target/release/seclab

if [[ -z "${NCA:-}" ]]; then
  echo "== installing network-config-analyzer into a temporary venv"
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install --quiet network-config-analyzer
  NCA=$WORK/venv/bin/nca
fi
NCA_VERSION=$("$(dirname "$NCA")/pip" show network-config-analyzer 2>/dev/null | sed -n 's/^Version: //p')
NCA_VERSION=${NCA_VERSION:-version unknown}

echo "== generating $PODS pods and $POLICIES policies in $WORK/cluster"
mkdir -p "$WORK/cluster"
python3 - "$WORK/cluster" "$PODS" "$POLICIES" <<'PY'
import json, sys
out, pods, policies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
apps = max(pods // 10, 1)
nss = max(pods // 250, 1)
namespaces = [{"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": f"ns{n}", "labels": {"env": f"e{n % 3}",
                            "kubernetes.io/metadata.name": f"ns{n}"}}} for n in range(nss)]
pod_items = []
for p in range(pods):
    app = p // 10
    pod_items.append({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": f"app{app}-{p}", "namespace": f"ns{app % nss}",
        "labels": {"app": f"app{app}", "tier": f"t{app % 5}"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"app{app}-rs",
                             "uid": f"uid-{app}", "controller": True}]},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
        "status": {"podIP": f"10.{200 + p // 65536}.{(p // 256) % 256}.{p % 256}",
                   "hostIP": "172.18.0.2", "phase": "Running"}})
pols = []
for n in range(nss):
    pols.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "deny", "namespace": f"ns{n}"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
for q in range(max(policies - nss, 0)):
    app = q % apps
    spec = {"podSelector": {"matchLabels": {"app": f"app{app}"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [
                {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In",
                    "values": [f"app{(app + 1) % apps}", f"app{(app + 2) % apps}"]}]},
                 "namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["e9"]}]}},
                {"podSelector": {"matchLabels": {"tier": f"t{q % 5}"}}}],
                "ports": [{"port": "http", "protocol": "TCP"}, {"port": 9000, "endPort": 9100, "protocol": "TCP"}]}]}
    if q % 4 == 0:
        spec["policyTypes"].append("Egress")
        spec["egress"] = [
            {"to": [{"ipBlock": {"cidr": f"10.{q % 256}.0.0/16", "except": [f"10.{q % 256}.1.0/24"]}}],
             "ports": [{"port": 443, "protocol": "TCP"}]},
            {"to": [{"namespaceSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}]
    pols.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": f"p{q}", "namespace": f"ns{app % nss}"}, "spec": spec})
def write(name, kind, items):
    with open(f"{out}/{name}", "w") as f:
        json.dump({"apiVersion": "v1", "kind": kind, "items": items}, f)
write("namespaces.json", "NamespaceList", namespaces)
write("pods.json", "PodList", pod_items)
write("policies.json", "NetworkPolicyList", pols)
print(f"{len(pod_items)} pods, {len(pols)} policies, {len(namespaces)} namespaces")
PY

now() { date +%s%N; }
# best_of N CMD...: runs CMD N times (output to $WORK/out), prints the best
# wall time in milliseconds.
best_of() {
  local n=$1 best='' t0 t1 ms
  shift
  for _ in $(seq "$n"); do
    t0=$(now)
    "$@" > "$WORK/out" 2> "$WORK/err" || { echo "failed: $*" >&2; cat "$WORK/err" >&2; exit 1; }
    t1=$(now)
    ms=$(( (t1 - t0) / 1000000 ))
    if [[ -z "$best" || $ms -lt $best ]]; then best=$ms; fi
  done
  echo "$best"
}

C=$WORK/cluster
echo "== timing (best of $RUNS for seclab, best of $NCA_RUNS for nca)"
seclab_ms=$(best_of "$RUNS" "$SECLAB" scan netpol --output connlist "$C")
seclab_lines=$(wc -l < "$WORK/out")
nca_ms=$(best_of "$NCA_RUNS" "$NCA" --connectivity "$C/policies.json" --pod_list "$C/pods.json" --ns_list "$C/namespaces.json" --output_format txt)
nca_lines=$(wc -l < "$WORK/out")

printf '\n%-44s %10s %14s\n' "tool" "wall (ms)" "output lines"
printf '%-44s %10s %14s\n' "seclab scan netpol --output connlist" "$seclab_ms" "$seclab_lines"
printf '%-44s %10s %14s\n' "nca --connectivity ($NCA_VERSION)" "$nca_ms" "$nca_lines"
if [[ $seclab_ms -gt 0 ]]; then
  echo "speed-up: $(( nca_ms / seclab_ms ))x"
else
  echo "speed-up: > ${nca_ms}x (seclab under 1 ms)"
fi
echo "($(nproc) cores, $(uname -m); output formats differ, so line counts differ)"
