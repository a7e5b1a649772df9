#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (default 600) with the committed seeds,
# keeping the growing corpus in fuzz/corpus/TARGET and any crash in
# fuzz/artifacts/TARGET. Usage: fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags]
set -euo pipefail
cd "$(dirname "$0")"
target=$1
seconds=${2:-600}
shift $(( $# < 2 ? $# : 2 ))
mkdir -p "corpus/$target" "seeds/$target"
exec cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 "$@"
