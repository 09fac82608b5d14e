#!/bin/sh
# Usage: run-fuzz.sh FUZZER SEED_CORPUS_DIR SECONDS
# Runs a libFuzzer target for SECONDS on a scratch copy of the seed corpus,
# so the committed corpus is not modified. Fails on any crash, leak or timeout.
set -eu
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
exec "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds"
