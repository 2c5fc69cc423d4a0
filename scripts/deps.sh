#!/usr/bin/env bash
# Installs what building, running and testing the platform needs, from Debian's packages and npm.
# Idempotent: only missing packages are installed. Sourced by scripts/up and scripts/test.
set -euo pipefail

ECD_DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates curl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libpqxx-dev libpq-dev libhiredis-dev libspdlog-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev clang-format python3 openssl
  libcurl4-openssl-dev libical-dev libkainjow-mustache-dev libhowardhinnant-date-dev
  python3-aiosmtpd python3-cryptography libglib2.0-dev libidn2-dev prometheus-cpp-dev
  libpango1.0-dev libcairo2-dev libqrencode-dev fonts-noto-core fonts-noto-cjk poppler-utils
  zbar-tools
  postgresql postgresql-contrib redis-server iso-codes tzdata
  prometheus
)

ecd_install_deps() {
  local missing=()
  local p
  for p in "${ECD_DEB_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  # This machine's Node.js ships its own npm; Debian's npm conflicts with it, so only a machine
  # without npm gets Debian's.
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  # kubectl renders the Kubernetes manifests (kubectl kustomize, offline). This kind of machine
  # comes with one (package kubectl); Debian's kubernetes-client would clash with it over
  # /usr/bin/kubectl, so only a machine without kubectl gets Debian's (1.20, whose kustomize
  # k8s/ is written for too).
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  if ((${#missing[@]})); then
    echo "==> installing Debian packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # buf (lint and buf curl) from the npm registry, kept inside the project tree.
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ ! -x "$root/.local/npm/node_modules/.bin/buf" ]]; then
    echo "==> installing @bufbuild/buf from npm into .local/npm"
    mkdir -p "$root/.local/npm"
    (cd "$root/.local/npm" && npm install --no-audit --no-fund --silent @bufbuild/buf@1 >/dev/null)
  fi
  # kubernetes-models (Kubernetes schemas), its Prometheus Operator models (ServiceMonitor,
  # PrometheusRule) and yaml, for the manifest checks in tests/deploy.
  if [[ ! -d "$root/.local/npm/node_modules/kubernetes-models" ||
        ! -d "$root/.local/npm/node_modules/@kubernetes-models/prometheus-operator" ||
        ! -d "$root/.local/npm/node_modules/yaml" ]]; then
    echo "==> installing kubernetes-models and yaml from npm into .local/npm"
    mkdir -p "$root/.local/npm"
    (cd "$root/.local/npm" && npm install --no-audit --no-fund --silent kubernetes-models@4 \
      @kubernetes-models/prometheus-operator@4 yaml@2 >/dev/null)
  fi
  export PATH="$root/.local/npm/node_modules/.bin:$PATH"
}

# maildev (a mail catcher with a web page to read what the platform sent), for scripts/up only.
ecd_install_maildev() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ ! -x "$root/.local/maildev/node_modules/.bin/maildev" ]]; then
    echo "==> installing maildev from npm into .local/maildev"
    mkdir -p "$root/.local/maildev"
    (cd "$root/.local/maildev" && npm install --no-audit --no-fund --silent maildev@2 >/dev/null)
  fi
}
