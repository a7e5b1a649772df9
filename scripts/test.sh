#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs the peer tools the tests use
# (skopeo) from Debian's packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages) for the interop tests" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --all-targets --all-features --quiet -- -D warnings
cargo test --all-features
