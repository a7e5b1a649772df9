#!/bin/sh
# Runs the conformance suite against any validator, without Rust.
#
#   VALIDATOR="my-validator validate" conformance/run.sh [DIR]
#
# The validator is called as `$VALIDATOR [FLAGS] --format json IMAGE` and must print JSON with
# "valid", "variant" (or "images": [{"variant"}]) and findings objects with "code" and
# "severity", as `wasm-image validate --format json` does. A case's "options" become flags
# (`max_tar_entries: 5` -> `--max-tar-entries 5`, `validate_wasm: false` -> `--no-wasm-validate`,
# `strict: true` -> `--strict`, `variant: "cncf"` -> `--variant cncf`), and a case's "select"
# (`:TAG`, `@DIGEST`) is appended to the image path. Needs jq.
set -u
VALIDATOR=${VALIDATOR:-"wasm-image validate"}
dir=${1:-conformance/cases}
pass=0; fail=0
for case in "$dir"/*/; do
  [ -f "$case/case.json" ] || continue
  image="${case}image"; [ -d "$image" ] || image="${case}image.tar"
  image="$image$(jq -r '.select // ""' "$case/case.json")"
  opts=$(jq -r '(.options // {}) | to_entries | map(
      if .key == "validate_wasm" then (if .value then empty else "--no-wasm-validate" end)
      elif .key == "strict" then (if .value then "--strict" else empty end)
      else "--\(.key | gsub("_"; "-")) \(.value)" end) | join(" ")' "$case/case.json")
  # shellcheck disable=SC2086
  got=$($VALIDATOR $opts --format json "$image" 2>/dev/null)
  if printf '%s' "$got" | jq -e --slurpfile case "$case/case.json" '
       . as $got | $case[0].expect as $e
       | ($got.variant // ([$got.images[]?.variant] | unique | join(","))) as $v
       | (if $v == "" then "unknown" else $v end) as $v
       | [$got | .. | objects | select(has("code") and has("severity"))] as $f
       | ($got.valid == $e.valid) and ($v == $e.variant)
         and ([$e.codes[] | . as $c | any($f[]; .code == $c)] | all)
         and (($e.valid | not) or ([$f[] | select(.severity == "error")] | length == 0))' \
       >/dev/null 2>&1; then
    pass=$((pass + 1)); echo "PASS $(basename "$case")"
  else
    fail=$((fail + 1)); echo "FAIL $(basename "$case")"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
