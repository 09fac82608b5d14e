#!/bin/sh
# Usage: run-fuzz.sh FUZZER SEED_CORPUS_DIR SECONDS
# Runs a libFuzzer target for SECONDS on a scratch copy of the seed corpus,
# so the committed corpus is not modified. Fails on any crash, leak, timeout or undefined
# behaviour (UBSan only reports and goes on unless told to halt). The long runs are
# tests/fuzz/long-run.sh (see tests/fuzz/README.md).
set -eu
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export G_SLICE=always-malloc
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
exec "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds"
