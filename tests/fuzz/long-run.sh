#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Long fuzzing runs of the libFuzzer targets in tests/fuzz/ (see README.md there).
#
# Usage: tests/fuzz/long-run.sh [options] [TARGET...]
#   --runs N          executions per target (default 10000000), summed over the jobs
#   --hours H         run each target for H hours (decimals allowed) instead of --runs
#   --jobs N          parallel libFuzzer processes per target (default 1)
#   --sanitize S      address,undefined (default), undefined or none
#   --builddir DIR    fuzz build directory (default build-fuzz-long[-S])
#   --workdir DIR     scratch directory: growing corpora, logs, crashes (default
#                     /tmp/npte-fuzz); reused by later runs
#   --merge           afterwards, minimise the new inputs into tests/fuzz/corpus/TARGET
#   --no-build        use the build directory as it is
#   --max-len N       passed to libFuzzer as -max_len (default: libFuzzer's choice)
# TARGET is one of wire portspec api apijson s4napi netindex (default: all of them).
#
# Stops at the first crash, leak, timeout or out-of-memory and prints the reproducer.
# Prints one summary line per target: executions, seconds, new coverage, crashes.
# Exit status: 0 clean, 1 a target crashed, 2 usage or build error.
set -euo pipefail

all_targets=(wire portspec api apijson s4napi netindex)
src=$(cd "$(dirname "$0")/../.." && pwd)
runs=10000000 hours="" jobs=1 sanitize=address,undefined builddir="" workdir=/tmp/npte-fuzz
merge=0 build=1 max_len=""

usage() { sed -n '4,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "long-run: $*" >&2; exit 2; }
number() { [[ $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || die "$1 needs a positive whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  case $1 in
    --runs) number --runs "${2-}"; runs=$2; shift 2 ;;
    --hours) [[ ${2-} =~ ^[0-9]*\.?[0-9]+$ ]] || die "--hours needs a number, got '${2-}'"
             hours=$2; shift 2 ;;
    --jobs|--workers) number "$1" "${2-}"; jobs=$2; shift 2 ;;
    --sanitize) case ${2-} in address,undefined|undefined|none) sanitize=$2 ;;
                  *) die "--sanitize takes address,undefined, undefined or none" ;; esac; shift 2 ;;
    --builddir) [ -n "${2-}" ] || die "--builddir needs a directory"; builddir=$2; shift 2 ;;
    --workdir) [ -n "${2-}" ] || die "--workdir needs a directory"; workdir=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    --no-build) build=0; shift ;;
    --max-len) number --max-len "${2-}"; max_len=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) die "unknown option $1 (try --help)" ;;
    *) [[ " ${all_targets[*]} " == *" $1 "* ]] || die "unknown target $1 (one of: ${all_targets[*]})"
       targets+=("$1"); shift ;;
  esac
done
[ -n "${targets+x}" ] || targets=("${all_targets[@]}")
if [ -z "$builddir" ]; then
  builddir=$src/build-fuzz-long
  [ "$sanitize" = address,undefined ] || builddir=$builddir-$sanitize
fi

# Make every sanitizer finding fatal, so libFuzzer saves the input; GSlice hands its
# blocks to malloc so ASan sees every allocation of glib and json-glib.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export G_SLICE=always-malloc

if [ "$build" = 1 ]; then
  command -v clang >/dev/null || die "clang is needed for libFuzzer"
  if [ ! -f "$builddir/build.ninja" ]; then
    CC=clang meson setup "$builddir" "$src" -Dfuzz=true -Dintegration=false \
      -Db_sanitize="$sanitize" -Db_lundef=false >/dev/null || die "meson setup failed"
  fi
  ninja -C "$builddir" "${targets[@]/#/tests/fuzz_}" >/dev/null || die "build failed"
fi

# stat_sum() - the sum of "stat::NAME:" over the log files given (one per job).
stat_sum() {
  local name=$1; shift
  awk -v n="stat::$name:" '$1 == n { s += $2 } END { print s + 0 }' "$@"
}

# cov_of() - the coverage at start ("first": the INITED line) or at the end ("last") of a log.
cov_of() {
  local which=$1 log=$2
  if [ "$which" = first ]; then
    { grep -m1 -E 'INITED|DONE' "$log" || true; } | sed -n 's/.* cov: \([0-9]*\).*/\1/p'
  else
    { grep -E ' cov: [0-9]+' "$log" || true; } | tail -n1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p'
  fi
}

failed=0
for t in "${targets[@]}"; do
  fuzzer=$builddir/tests/fuzz_$t
  seeds=$src/tests/fuzz/corpus/$t
  corpus=$workdir/corpus/$t
  arts=$workdir/artifacts/$t/
  logs=$workdir/logs/$t
  [ -x "$fuzzer" ] || die "$fuzzer is missing (build with --sanitize $sanitize, or drop --no-build)"
  mkdir -p "$corpus" "$arts" "$logs"
  rm -f "$logs"/job-*.log
  args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$arts")
  [ -n "$max_len" ] && args+=(-max_len="$max_len")
  if [ -n "$hours" ]; then
    args+=(-max_total_time="$(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 + 0.5 }')")
  else
    args+=(-runs=$(( (runs + jobs - 1) / jobs )))
  fi
  before=$(find "$arts" -type f | wc -l)
  start=$(date +%s)
  pids=()
  for j in $(seq 1 "$jobs"); do
    "$fuzzer" "${args[@]}" -seed="$((start + j))" "$corpus" "$seeds" >"$logs/job-$j.log" 2>&1 &
    pids+=($!)
  done
  # The first job to fail stops the others.
  rc=0
  for _ in "${pids[@]}"; do
    if ! wait -n; then
      rc=1
      for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    fi
  done
  end=$(date +%s)
  execs=$(stat_sum number_of_executed_units "$logs"/job-*.log)
  cov0=$(cov_of first "$logs/job-1.log"); cov1=0
  for l in "$logs"/job-*.log; do
    c=$(cov_of last "$l"); [ -n "$c" ] && [ "$c" -gt "${cov1:-0}" ] && cov1=$c
  done
  crashes=$(( $(find "$arts" -type f | wc -l) - before ))
  [ "$rc" = 0 ] || [ "$crashes" -gt 0 ] || crashes=1
  printf 'fuzz_%-9s executions %-10s seconds %-6s new_coverage %-5s crashes %s  (%s, jobs %s, corpus %s files)\n' \
    "$t" "$execs" "$((end - start))" "$(( ${cov1:-0} - ${cov0:-0} ))" "$crashes" "$sanitize" "$jobs" \
    "$(find "$corpus" -type f | wc -l)"
  if [ "$rc" != 0 ] || [ "$crashes" -gt 0 ]; then
    echo "long-run: fuzz_$t failed; logs in $logs/" >&2
    for a in $(find "$arts" -type f -newermt "@$start"); do
      echo "reproducer: $a   (replay: $fuzzer $a)" >&2
    done
    grep -h -m3 -E 'ERROR|runtime error|check failed|SUMMARY' "$logs"/job-*.log >&2 || true
    failed=1
    break
  fi
  if [ "$merge" = 1 ]; then
    n0=$(find "$seeds" -type f | wc -l)
    # Edges only (no hit-count buckets): the fewest inputs that keep the new coverage.
    "$fuzzer" -merge=1 -use_counters=0 -artifact_prefix="$arts" "$seeds" "$corpus" \
      >"$logs/merge.log" 2>&1 \
      || { echo "long-run: merge of fuzz_$t failed, see $logs/merge.log" >&2; failed=1; break; }
    echo "fuzz_$t: merged $(( $(find "$seeds" -type f | wc -l) - n0 )) new inputs into $seeds"
  fi
done
exit $failed
