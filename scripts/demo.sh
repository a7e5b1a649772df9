#!/usr/bin/env bash
# The main job on the bundled example: build an image from the proxy-wasm
# filter in testdata/, inspect it, and validate it as a CI gate would.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/demo/proxy-filter}"
rm -rf "$out"
cargo build --quiet --features cli
bin=target/debug/wasm-image
"$bin" build testdata/modules/proxy-filter.wasm -o "$out" --tag v1
"$bin" inspect "$out:v1"
if "$bin" validate --help >/dev/null 2>&1; then
    "$bin" validate "$out:v1"
fi
