#!/usr/bin/env bash
# Peak memory of `wasm-image validate` on a large layer (issue: validating a
# 256 MiB layer must keep peak RSS under 64 MiB). Builds in release mode,
# generates a valid module of SIZE_MIB (default 256) with a large code section
# and a large custom section, builds a cncf image of it, and reports the peak
# resident set size of validate (full Wasm validation on) next to
# `openssl dgst -sha256` of the same layer blob. Exits 1 if the bound is broken.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-256}"
limit_kib=$((64 * 1024))
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --quiet --release --features cli --example gen_big_module
bin=target/release/wasm-image
target/release/examples/gen_big_module "$work/big.wasm" "$size_mib"
"$bin" build "$work/big.wasm" -o "$work/layout" --variant cncf >/dev/null 2>&1
blob="$(find "$work/layout/blobs/sha256" -type f -size +1M | head -n 1)"

peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'; }
wall() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

validate_kib="$(peak "$bin" validate --max-layer-bytes $(( (size_mib + 1) << 20 )) "$work/layout")"
openssl_kib="$(peak openssl dgst -sha256 "$blob")"
validate_s="$(wall "$bin" validate --max-layer-bytes $(( (size_mib + 1) << 20 )) "$work/layout")"
openssl_s="$(wall openssl dgst -sha256 "$blob")"

printf '%-34s %12s %10s\n' "command (layer of ${size_mib} MiB)" "peak RSS" "wall"
printf '%-34s %9s KiB %9.2fs\n' "wasm-image validate (full Wasm)" "$validate_kib" "$validate_s"
printf '%-34s %9s KiB %9.2fs\n' "openssl dgst -sha256" "$openssl_kib" "$openssl_s"
printf 'time ratio validate / openssl: %.2f\n' "$(echo "$validate_s / $openssl_s" | bc -l)"
if [ "$validate_kib" -ge "$limit_kib" ]; then
    echo "FAIL: peak RSS ${validate_kib} KiB is over the ${limit_kib} KiB bound" >&2
    exit 1
fi
echo "ok: peak RSS ${validate_kib} KiB is under the ${limit_kib} KiB bound"
