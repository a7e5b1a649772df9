#!/usr/bin/env bash
# wasm-image against its baselines, on the same bytes, in one run.
#
# Builds in release mode, generates Wasm modules with examples/gen_big_module,
# then runs the commands of each pair alternately (RUNS rounds, interleaved,
# so that a slower moment of the machine hits both sides) and compares
# medians of the wall time:
#   - `wasm-image validate` of a SIZE_MIB layer  vs `openssl dgst -sha256` of the blob (goal <= 1.15)
#     (on three modules: half code of 1-byte `nop`s / half custom
#     section, half typical compiled code / half custom section, and a data-heavy
#     one: 2% code)
#   - `wasm-image build` of a SIZE_MIB module   vs `openssl dgst -sha256` + `cp` of it (goal <= 1.3)
#   - `wasm-image push` / `pull` of a PUSH_MIB image to a loopback registry
#     vs `skopeo copy` of the same image (goal <= 0.8)
#   - peak RSS (`/usr/bin/time`) of validate, build, push and pull (goal <= 32 MiB)
#   - `wasm-image validate` of many small images (examples/gen_many_images):
#     a layout of MANY_SMALL and one of MANY images, and registry
#     repositories holding the same images (`validate --plain-http --all-tags`):
#     wall time, time per image, MiB/s of module bytes and cores used
#     ((user + sys) / wall, from `/usr/bin/time`)
# and times validate/build and the baselines against layer size (PLOT_SIZES,
# MiB), for the plot. Writes docs/performance.md, docs/performance.csv and
# docs/performance.svg (examples/plot_performance.rs, with plotters).
#
# Environment: RUNS (default 5), SIZE_MIB (256), PUSH_MIB (64),
# MANY_SMALL (250), MANY (1000), MANY_KIB (16, the size of each of their modules),
# PLOT_SIZES ("1 4 16 64 256 1024"), PLOT_RUNS (3), OUT (docs),
# CARGO_TARGET_DIR, WASM_IMAGE (the binary to measure, e.g. an older build;
# default: the release build of this tree). The registry is Debian's `docker-registry` on
# 127.0.0.1 with a free port and a temporary directory, stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
RUNS="${RUNS:-5}"
SIZE_MIB="${SIZE_MIB:-256}"
PUSH_MIB="${PUSH_MIB:-64}"
MANY_SMALL="${MANY_SMALL:-250}"
MANY="${MANY:-1000}"
MANY_KIB="${MANY_KIB:-16}"
PLOT_SIZES="${PLOT_SIZES:-1 4 16 64 256 1024}"
PLOT_RUNS="${PLOT_RUNS:-3}"
OUT="${OUT:-docs}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

# Tools: installed from Debian's packages when missing (as scripts/test.sh does).
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages)" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "building (release)..." >&2
cargo build --quiet --release --features cli --bin wasm-image --example gen_big_module --example gen_many_images --example plot_performance
bin="${WASM_IMAGE:-$target_dir/release/wasm-image}"
gen="$target_dir/release/examples/gen_big_module"
gen_many="$target_dir/release/examples/gen_many_images"
plot="$target_dir/release/examples/plot_performance"

work="$(mktemp -d)"
registry_pids=()
cleanup() {
    for pid in "${registry_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# run NAME CMD...: runs CMD once; appends its wall time (s) to $work/t.NAME,
# its peak RSS (KiB) to $work/m.NAME and the cores it kept busy, (user + sys
# CPU time) / wall time, to $work/u.NAME. The CPU time is the growth of the
# shell's children's times (`times`, to the millisecond; `/usr/bin/time`'s
# %U %S are to 10 ms, too coarse for runs of a few tens of ms).
run() {
    local name="$1" s e
    shift
    s=$(date +%s%N)
    times >"$work/cpu0"
    if ! /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err"; then
        echo "failed: $*" >&2
        cat "$work/err" >&2
        exit 1
    fi
    times >"$work/cpu1"
    e=$(date +%s%N)
    awk -v ns=$((e - s)) 'BEGIN { printf "%.4f\n", ns / 1e9 }' >>"$work/t.$name"
    tail -n 1 "$work/rss" >>"$work/m.$name"
    awk -v ns=$((e - s)) -v c0="$(children_cpu "$work/cpu0")" -v c1="$(children_cpu "$work/cpu1")" \
        'BEGIN { printf "%.2f\n", (c1 - c0) / (ns / 1e9) }' >>"$work/u.$name"
}
# children_cpu FILE: user + sys CPU time (s) of the children, from the output
# of `times` (its second line: "0m1.234s 0m0.567s").
children_cpu() {
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s$", "", p[2]); t += p[1] * 60 + p[2] } printf "%.3f", t }' "$1"
}
median() { sort -g "$1" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
peak_mib() { sort -n "$1" | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
meets() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g) ? "met" : "**not met**" }'; }
# blob_of LAYOUT: the largest blob of a layout (its layer).
blob_of() { find "$1/blobs/sha256" -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2; }
limit_args() { echo "--max-layer-bytes $((($1 + 1) << 20))"; }

# Modules and layouts.
mk() { # mk NAME SIZE_MIB CODE_PERCENT [CODE_KIND]
    "$gen" "$work/$1.wasm" "$2" "$3" "${4:-nop}"
    "$bin" build "$work/$1.wasm" -o "$work/$1.layout" --variant cncf >/dev/null
}
echo "generating modules..." >&2
mk mixed "$SIZE_MIB" 50
mk typical "$SIZE_MIB" 50 typical
mk data "$SIZE_MIB" 2
mk push "$PUSH_MIB" 50
mixed_blob="$(blob_of "$work/mixed.layout")"
typical_blob="$(blob_of "$work/typical.layout")"
data_blob="$(blob_of "$work/data.layout")"
lim="$(limit_args "$SIZE_MIB")"

# Two registries (the same program and configuration): A takes wasm-image's
# pushes and serves both pulls; B takes only skopeo's pushes. skopeo
# remembers where it has seen a blob (its blob info cache) and mounts it from
# there instead of uploading it: after its pull from A and its earlier pushes
# it would mount every time. B is a registry skopeo never pulls from, and
# the blob is deleted from each of its repositories after the push, so that
# skopeo uploads the bytes every round, as wasm-image does.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 30000))
}
start_registry() { # start_registry NAME PORT
    mkdir -p "$work/$1"
    cat >"$work/$1.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/$1
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
  secret: benchmark-only
EOF
    docker-registry serve "$work/$1.yml" >"$work/$1.log" 2>&1 &
    registry_pids+=($!)
    for _ in $(seq 50); do
        curl -fsS "http://127.0.0.1:$2/v2/" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "registry $1 did not start:" >&2
    cat "$work/$1.log" >&2
    exit 1
}
port_a="$(free_port)"
start_registry reg-a "$port_a"
port_b="$(free_port)"
start_registry reg-b "$port_b"
reg="127.0.0.1:$port_a"
reg_b="127.0.0.1:$port_b"
layer_digest="sha256:$(basename "$(blob_of "$work/push.layout")")"

echo "timing ($RUNS interleaved rounds)..." >&2
"$bin" push --plain-http "$work/push.layout" "$reg/bench/source:latest" >/dev/null
for r in $(seq "$RUNS"); do
    run validate "$bin" validate $lim "$work/mixed.layout"
    run openssl_mixed openssl dgst -sha256 "$mixed_blob"
    run validate_typical "$bin" validate $lim "$work/typical.layout"
    run openssl_typical openssl dgst -sha256 "$typical_blob"
    run validate_data "$bin" validate $lim "$work/data.layout"
    run openssl_data openssl dgst -sha256 "$data_blob"
    rm -rf "$work/built" "$work/copy.wasm"
    run build "$bin" build "$work/mixed.wasm" -o "$work/built" --variant cncf
    run openssl_cp sh -c 'openssl dgst -sha256 "$1" && cp "$1" "$2"' sh "$work/mixed.wasm" "$work/copy.wasm"
    rm -f "$work/copy.wasm"
    run openssl_cp_sync sh -c 'openssl dgst -sha256 "$1" && cp "$1" "$2" && sync "$2"' sh "$work/mixed.wasm" "$work/copy.wasm"
    run push "$bin" push --plain-http "$work/push.layout" "$reg/bench/wi$r:latest"
    run skopeo_push skopeo copy --quiet --preserve-digests --dest-tls-verify=false \
        "oci:$work/push.layout" "docker://$reg_b/bench/sk$r:latest"
    curl -fsS -X DELETE "http://$reg_b/v2/bench/sk$r/blobs/$layer_digest" >/dev/null
    rm -rf "$work/pulled-wi" "$work/pulled-sk"
    run pull "$bin" pull --plain-http "$reg/bench/source:latest" -o "$work/pulled-wi"
    run skopeo_pull skopeo copy --quiet --preserve-digests --src-tls-verify=false \
        "docker://$reg/bench/source:latest" "oci:$work/pulled-sk:latest"
done

# Many small images: a layout of MANY_SMALL and one of MANY distinct cncf
# images (MANY_KIB KiB modules, tags v0000, v0001, ...), each validated
# whole; and the same images pushed tag by tag into a repository of
# registry A each, validated with --all-tags (manifests fetched 8 at a
# time, then images validated on every core).
echo "many images ($MANY_SMALL and $MANY of $MANY_KIB KiB): generating and pushing..." >&2
many_counts="$MANY_SMALL $MANY"
for n in $many_counts; do
    "$gen_many" "$work/many$n.layout" "$n" "$MANY_KIB" >"$work/many$n.out"
    # "wrote N images to DIR (BYTES bytes of modules)"
    sed -n 's/.*(\([0-9]*\) bytes of modules).*/\1/p' "$work/many$n.out" >"$work/many$n.bytes"
    for i in $(seq 0 $((n - 1))); do
        tag="$(printf 'v%04d' "$i")"
        if ! "$bin" push --plain-http "$work/many$n.layout:$tag" "$reg/bench/many$n:$tag" >/dev/null 2>"$work/err"; then
            echo "failed: push $work/many$n.layout:$tag" >&2
            cat "$work/err" >&2
            exit 1
        fi
    done
done
echo "timing many images ($RUNS interleaved rounds)..." >&2
for _ in $(seq "$RUNS"); do
    for n in $many_counts; do
        run "many_layout$n" "$bin" validate "$work/many$n.layout"
        run "many_registry$n" "$bin" validate --plain-http --all-tags "$reg/bench/many$n"
    done
done

echo "timing against layer size ($PLOT_SIZES MiB)..." >&2
echo "size_mib,wasm_image_validate_s,openssl_dgst_s,wasm_image_build_s,openssl_dgst_cp_s" >"$work/plot.csv"
rm -f "$work"/t.size* "$work"/m.size* "$work"/u.size*
for size in $PLOT_SIZES; do
    mk "s$size" "$size" 50
    blob="$(blob_of "$work/s$size.layout")"
    for _ in $(seq "$PLOT_RUNS"); do
        run "size_v$size" "$bin" validate $(limit_args "$size") "$work/s$size.layout"
        run "size_o$size" openssl dgst -sha256 "$blob"
        rm -rf "$work/built" "$work/copy.wasm"
        run "size_b$size" "$bin" build "$work/s$size.wasm" -o "$work/built" --variant cncf
        run "size_c$size" sh -c 'openssl dgst -sha256 "$1" && cp "$1" "$2"' sh "$work/s$size.wasm" "$work/copy.wasm"
    done
    echo "$size,$(median "$work/t.size_v$size"),$(median "$work/t.size_o$size"),$(median "$work/t.size_b$size"),$(median "$work/t.size_c$size")" >>"$work/plot.csv"
    rm -rf "$work/s$size.wasm" "$work/s$size.layout" "$work/built" "$work/copy.wasm"
done

# The report.
v=$(median "$work/t.validate")
o=$(median "$work/t.openssl_mixed")
vt=$(median "$work/t.validate_typical")
ot=$(median "$work/t.openssl_typical")
vd=$(median "$work/t.validate_data")
od=$(median "$work/t.openssl_data")
b=$(median "$work/t.build")
c=$(median "$work/t.openssl_cp")
cs=$(median "$work/t.openssl_cp_sync")
p=$(median "$work/t.push")
sp=$(median "$work/t.skopeo_push")
l=$(median "$work/t.pull")
sl=$(median "$work/t.skopeo_pull")
rv=$(ratio "$v" "$o")
rvt=$(ratio "$vt" "$ot")
rvd=$(ratio "$vd" "$od")
rb=$(ratio "$b" "$c")
rbs=$(ratio "$b" "$cs")
rp=$(ratio "$p" "$sp")
rl=$(ratio "$l" "$sl")
cpu="$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
mem="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
sha_ni="no"
grep -q ' sha_ni ' /proc/cpuinfo && sha_ni="yes"
mkdir -p "$OUT"
cp "$work/plot.csv" "$OUT/performance.csv"
"$plot" "$OUT/performance.csv" "$OUT/performance.svg"

# many_rows FORMAT: for each measure of many images, printf FORMAT with its
# label, images, median wall time (s), time per image (ms), MiB/s of module
# bytes and median cores used.
many_rows() {
    local fmt="$1" n kind label w bytes
    for kind in layout registry; do
        for n in $many_counts; do
            if [ "$kind" = layout ]; then
                label="validate LAYOUT"
            else
                label="validate --plain-http --all-tags HOST:PORT/REPO"
            fi
            w=$(median "$work/t.many_$kind$n")
            bytes=$(cat "$work/many$n.bytes")
            # shellcheck disable=SC2059 # the format is the caller's
            printf "$fmt" "$label" "$n" "$w" \
                "$(awk -v w="$w" -v n="$n" 'BEGIN { printf "%.3f", w * 1000 / n }')" \
                "$(awk -v w="$w" -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 / w }')" \
                "$(median "$work/u.many_$kind$n")"
        done
    done
}

rss_row() { # rss_row NAME LABEL
    local m
    m=$(peak_mib "$work/m.$1")
    printf '| peak RSS of `%s` | %s MiB | ≤ 32 MiB | %s |\n' "$2" "$m" "$(awk -v m="$m" 'BEGIN { print (m <= 32) ? "met" : "**not met**" }')"
}
{
    echo "# Performance"
    echo
    echo "Measured by \`benches/compare.sh\` (release build; $RUNS interleaved rounds, medians of wall time;"
    echo "peak RSS is the largest of the rounds). Regenerate with \`bash benches/compare.sh\`."
    echo
    echo "## Machine"
    echo
    echo "- CPU: $cpu, $(nproc) cores available (SHA extensions: $sha_ni)"
    echo "- memory: $mem"
    echo "- $(uname -sr); $(openssl version | cut -d' ' -f1-2); skopeo $(skopeo --version | awk '{ print $3 }'); registry: Debian's docker-registry on 127.0.0.1"
    echo
    echo "## Against the baselines"
    echo
    echo "| measure | wasm-image | baseline | ratio | goal | |"
    echo "| --- | --- | --- | --- | --- | --- |"
    echo "| \`validate\` of a $SIZE_MIB MiB layer (half code of 1-byte \`nop\`s, half custom section) vs \`openssl dgst -sha256\` | ${v} s | ${o} s | $rv | ≤ 1.15 | $(meets "$rv" 1.15) |"
    echo "| \`validate\` of a $SIZE_MIB MiB layer (half typical compiled code, half custom section) vs \`openssl dgst -sha256\` | ${vt} s | ${ot} s | $rvt | ≤ 1.15 | $(meets "$rvt" 1.15) |"
    echo "| \`validate\` of a $SIZE_MIB MiB layer (2% code, 98% custom section) vs \`openssl dgst -sha256\` | ${vd} s | ${od} s | $rvd | ≤ 1.15 | $(meets "$rvd" 1.15) |"
    echo "| \`build\` of a $SIZE_MIB MiB module vs \`openssl dgst -sha256\` + \`cp\` | ${b} s | ${c} s | $rb | ≤ 1.3 | $(meets "$rb" 1.3) |"
    echo "| (the same, against a durable copy: \`openssl dgst -sha256\` + \`cp\` + \`sync FILE\`; \`build\` fsyncs every blob it stores) | ${b} s | ${cs} s | $rbs | | |"
    echo "| \`push\` of a $PUSH_MIB MiB image vs \`skopeo copy\` to the registry | ${p} s | ${sp} s | $rp | ≤ 0.8 | $(meets "$rp" 0.8) |"
    echo "| \`pull\` of a $PUSH_MIB MiB image vs \`skopeo copy\` from the registry | ${l} s | ${sl} s | $rl | ≤ 0.8 | $(meets "$rl" 0.8) |"
    echo
    echo "| memory | measured | goal | |"
    echo "| --- | --- | --- | --- |"
    rss_row validate "validate ($SIZE_MIB MiB)"
    rss_row build "build ($SIZE_MIB MiB)"
    rss_row push "push ($PUSH_MIB MiB)"
    rss_row pull "pull ($PUSH_MIB MiB)"
    echo
    echo "## Many small images"
    echo
    echo "\`validate\` of a layout holding $MANY_SMALL, then $MANY distinct \`cncf\` images of $MANY_KIB KiB modules"
    echo "(\`examples/gen_many_images.rs\`), and of registry repositories holding the same images, pushed"
    echo "tag by tag (\`validate --plain-http --all-tags HOST:PORT/REPO\`). Medians of $RUNS interleaved rounds;"
    echo "cores used is wasm-image's (user + sys CPU time) / wall time, of $(nproc) available (the registry's own"
    echo "CPU time is not counted)."
    echo
    echo "| measure | images | wall time (s) | per image (ms) | module bytes (MiB/s) | cores used |"
    echo "| --- | --- | --- | --- | --- | --- |"
    # shellcheck disable=SC2016 # Markdown backquotes, not a command substitution
    many_rows '| `%s` | %s | %s | %s | %s | %s |\n'
    echo
    echo "Time per image staying flat from $MANY_SMALL to $MANY images is what \"proportional\" means here:"
    echo "validating N images costs N times the work of one, with no per-image cost that grows with N."
    echo
    echo "## Cost against layer size"
    echo
    echo "Medians of $PLOT_RUNS runs (half-code modules, \`--variant cncf\`); data in [performance.csv](performance.csv)."
    echo
    echo "![time against layer size](performance.svg)"
    echo
    echo "| layer (MiB) | validate (s) | openssl dgst (s) | build (s) | openssl dgst + cp (s) |"
    echo "| --- | --- | --- | --- | --- |"
    tail -n +2 "$work/plot.csv" | awk -F, '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
    if [ -f "$OUT/performance-notes.md" ]; then
        echo
        cat "$OUT/performance-notes.md"
    fi
} >"$OUT/performance.md"

printf '%-58s %9s %9s %7s %s\n' "measure" "wasm-image" "baseline" "ratio" "goal"
printf '%-58s %9s %9s %7s %s\n' "validate ${SIZE_MIB} MiB (half nop code) vs openssl dgst" "$v" "$o" "$rv" "<= 1.15 $(meets "$rv" 1.15)"
printf '%-58s %9s %9s %7s %s\n' "validate ${SIZE_MIB} MiB (half typical code) vs openssl dgst" "$vt" "$ot" "$rvt" "<= 1.15 $(meets "$rvt" 1.15)"
printf '%-58s %9s %9s %7s %s\n' "validate ${SIZE_MIB} MiB (2% code) vs openssl dgst" "$vd" "$od" "$rvd" "<= 1.15 $(meets "$rvd" 1.15)"
printf '%-58s %9s %9s %7s %s\n' "build ${SIZE_MIB} MiB vs openssl dgst + cp" "$b" "$c" "$rb" "<= 1.3 $(meets "$rb" 1.3)"
printf '%-58s %9s %9s %7s %s\n' "build ${SIZE_MIB} MiB vs openssl dgst + cp + sync" "$b" "$cs" "$rbs" "(informative)"
printf '%-58s %9s %9s %7s %s\n' "push ${PUSH_MIB} MiB vs skopeo copy" "$p" "$sp" "$rp" "<= 0.8 $(meets "$rp" 0.8)"
printf '%-58s %9s %9s %7s %s\n' "pull ${PUSH_MIB} MiB vs skopeo copy" "$l" "$sl" "$rl" "<= 0.8 $(meets "$rl" 0.8)"
for n in validate build push pull; do
    printf 'peak RSS %-10s %6s MiB (goal <= 32 MiB)\n' "$n" "$(peak_mib "$work/m.$n")"
done
printf '%-58s %6s %9s %9s %7s %s\n' "many images" "images" "wall (s)" "ms/image" "MiB/s" "cores"
many_rows '%-58s %6s %9s %9s %7s %s\n'
echo "wrote $OUT/performance.md, $OUT/performance.csv, $OUT/performance.svg" >&2
