#!/bin/bash
# Runs every test of npte: unit, fuzz-corpus replay, integration (as root AND as
# an unprivileged user when started as root), a short libFuzzer run of every
# target, and the whole suite again under ASan+UBSan. Installs what is missing.
# Usage: tests/run-all.sh        (CI runs it as root via .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
bash tests/deps.sh
jobs=$(nproc)
total_ok=0
total_fail=0

count() {  # count DIR: add meson's results of the last run in DIR to the totals
  local log=$1/meson-logs/testlog.json ok fail
  if [ ! -f "$log" ]; then total_fail=$((total_fail + 1)); return; fi
  ok=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(x["result"]=="OK" for x in r))' "$log")
  fail=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(x["result"] not in ("OK","SKIP") for x in r))' "$log")
  total_ok=$((total_ok + ok)); total_fail=$((total_fail + fail))
}

section() { echo; echo "=== $* ==="; }

user=npte-ci
if [ "$(id -u)" -eq 0 ]; then
  # Rootless TAP needs this; a fresh machine has it 0600.
  [ -c /dev/net/tun ] && chmod 0666 /dev/net/tun
  # The unprivileged test user, with subordinate id ranges. Created before the
  # root run too: tests that drive rootlesskit (which refuses to run as root
  # without subuid ranges) run their rootless part as this user.
  if ! id "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$user"
  fi
  grep -q "^$user:" /etc/subuid || echo "$user:300000:65536" >> /etc/subuid
  grep -q "^$user:" /etc/subgid || echo "$user:300000:65536" >> /etc/subgid
fi

section "build (gcc, -Werror)"
rm -rf build-ci
meson setup build-ci --werror >/dev/null
ninja -C build-ci

section "tests as $(id -un): unit + integration"
rc=0
meson test -C build-ci --print-errorlogs --num-processes "$jobs" || rc=1
count build-ci

if [ "$(id -u)" -eq 0 ]; then
  section "tests as an unprivileged user"
  udir=/tmp/npte-ci-src
  rm -rf "$udir"
  mkdir -p "$udir"
  git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -t "$udir")
  chown -R "$user:" "$udir"
  runuser -u "$user" -- bash -c "cd $udir && meson setup build-u >/dev/null && ninja -C build-u \
      && meson test -C build-u --print-errorlogs --num-processes $jobs" || rc=1
  count "$udir/build-u"
fi

section "static analysis: clang-tidy and cppcheck"
if bash tests/static-analysis.sh build-ci; then
  total_ok=$((total_ok + 1))
else
  total_fail=$((total_fail + 1)); rc=1
fi

section "valgrind memcheck: unit tests and npte in integration tests"
if bash tests/valgrind.sh build-ci; then
  total_ok=$((total_ok + 1))
else
  total_fail=$((total_fail + 1)); rc=1
fi

section "ASan+UBSan: the whole suite"
rm -rf build-asan
meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false --werror >/dev/null
ninja -C build-asan
# Leak checking in the unit tests; the integration tests' processes exit via exec/_exit paths.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --num-processes "$jobs" --suite unit || rc=1
count build-asan
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --num-processes "$jobs" --suite integration || rc=1
count build-asan

section "libFuzzer: short run of every target"
rm -rf build-fuzz
CC=clang meson setup build-fuzz -Dfuzz=true -Dfuzz_seconds="${NPTE_FUZZ_SECONDS:-15}" \
  -Dintegration=false -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-fuzz
meson test -C build-fuzz --print-errorlogs --suite fuzz --num-processes "$jobs" || rc=1
count build-fuzz

echo
echo "total: $total_ok passed, $total_fail failed"
exit $rc
