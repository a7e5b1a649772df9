#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs the peer tools the tests use
# (skopeo; the CNCF distribution registry `docker-registry` and `htpasswd`
# from apache2-utils for tests/registry.rs) from Debian's packages when they
# are missing. The registry tests start their own registries on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages) for the interop and registry tests" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --all-targets --all-features --quiet -- -D warnings
cargo test --all-features
