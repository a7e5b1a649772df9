#!/usr/bin/env bash
# wkg interop (not run in CI: `cargo install wkg --locked` takes about ten
# minutes). Starts a plain docker-registry on 127.0.0.1, then:
#   1. wasm-image pushes a cncf image; `wkg oci pull` must get the identical component;
#   2. `wkg oci push` pushes a component; `wasm-image validate` must find it valid,
#      and `wasm-image pull --wasm` must get the identical bytes.
# Exit 0 when both hold.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in wkg docker-registry curl python3; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "missing $tool (wkg: cargo install wkg --locked; docker-registry: apt-get install docker-registry)" >&2
        exit 2
    }
done

cargo build --quiet --features cli
W="${CARGO_TARGET_DIR:-target}/debug/wasm-image"
COMPONENT=testdata/modules/adder.component.wasm

work=$(mktemp -d)
registry_pid=""
cleanup() {
    [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host="127.0.0.1:$port"
cat > "$work/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $work/data}
http:
  addr: $host
  secret: not-a-secret-local-test-only
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://$host/v2/" >/dev/null 2>&1 && break
    sleep 0.1
done

# wkg must not pick up the developer's credentials.
export DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"

echo "== 1. wasm-image push (cncf) -> wkg oci pull"
"$W" build "$COMPONENT" --variant cncf -o "$work/layout" --tag v1 >/dev/null
"$W" push "$work/layout:v1" "$host/interop/adder:1.0.0" --plain-http
wkg oci pull --insecure "$host" "$host/interop/adder:1.0.0" -o "$work/by-wkg.wasm"
cmp "$COMPONENT" "$work/by-wkg.wasm"
echo "   wkg pulled the identical component ($(wc -c <"$work/by-wkg.wasm") bytes)"

echo "== 2. wkg oci push -> wasm-image validate / pull"
wkg oci push --insecure "$host" "$host/interop/wkg-adder:1.0.0" "$COMPONENT"
"$W" validate "$host/interop/wkg-adder:1.0.0" --plain-http
"$W" pull "$host/interop/wkg-adder:1.0.0" --plain-http -o "$work/pulled" --wasm "$work/by-us.wasm"
cmp "$COMPONENT" "$work/by-us.wasm"
echo "   wasm-image validated and pulled the identical component"

echo "wkg interop: OK"
