#!/usr/bin/env bash
# Checks deploy/ with the field's own tools (installed by scripts/tools.sh):
#   - the ConfigMap holds deploy/zktx.example.toml verbatim, the dashboard is
#     what deploy/grafana/generate.py writes;
#   - the Kubernetes manifests validate against the Kubernetes 1.37 schemas
#     (kubernetes-validate --strict), and a broken one is refused;
#   - checkov finds no failed check in the manifests or the Containerfile, and
#     every skipped check carries a written reason;
#   - promtool checks the alert rules and runs their unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/venv/bin
fail() { echo "deploy-check: FAILED: $*" >&2; exit 1; }

echo "deploy-check: generated files are current"
python3 deploy/render_configmap.py --check || fail "deploy/k8s/configmap.yaml is stale"
python3 deploy/grafana/generate.py --check || fail "deploy/grafana/zktx.json is stale"

echo "deploy-check: Kubernetes schemas (kubernetes-validate $("$venv/kubernetes-validate" --version 2>&1 | tail -1))"
manifests=()
while read -r file; do manifests+=("deploy/k8s/$file"); done \
  < <(sed -n 's/^  - \(.*\.yaml\)$/\1/p' deploy/k8s/kustomization.yaml)
[ ${#manifests[@]} -ge 8 ] || fail "kustomization.yaml lists ${#manifests[@]} resources"
"$venv/kubernetes-validate" --strict --quiet "${manifests[@]}" || fail "a manifest does not validate"
broken=$(mktemp --suffix=.yaml)
trap 'rm -f "$broken"' EXIT
sed 's/^\(\s*\)terminationGracePeriodSeconds: 45/\1terminationGracePeriodSecond: 45/' \
  deploy/k8s/deployment.yaml > "$broken"
if "$venv/kubernetes-validate" --strict --quiet "$broken" >/dev/null 2>&1; then
  fail "kubernetes-validate accepted a manifest with an unknown field: the check checks nothing"
fi

echo "deploy-check: checkov (manifests and the Containerfile)"
# checkov finds container files by name: scan a copy named Dockerfile.
scan_dir=$(mktemp -d)
trap 'rm -f "$broken"; rm -rf "$scan_dir"' EXIT
cp deploy/Containerfile "$scan_dir/Dockerfile"
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
"$venv/checkov" --quiet --compact --skip-download --framework kubernetes -d deploy/k8s \
  || fail "checkov: a Kubernetes check failed"
"$venv/checkov" --quiet --compact --skip-download --framework dockerfile -f "$scan_dir/Dockerfile" \
  || fail "checkov: a Containerfile check failed"
# Every skip says why: "checkov:skip=ID: reason" / "checkov.io/skipN: ID=reason".
if grep -nE 'checkov:skip=[A-Z0-9_]+ *$|checkov:skip=[A-Z0-9_]+: *$' deploy/Containerfile; then
  fail "a checkov skip in deploy/Containerfile has no reason"
fi
if grep -nE 'checkov\.io/skip[0-9]+: *[A-Z0-9_]+ *(=\s*)?$' deploy/k8s/*.yaml; then
  fail "a checkov skip in deploy/k8s has no reason"
fi

echo "deploy-check: alert rules ($(promtool --version 2>&1 | head -1))"
promtool check rules deploy/prometheus/zktx.rules.yml
promtool test rules deploy/prometheus/tests/zktx.rules.test.yml
echo "deploy-check: every check passed"
