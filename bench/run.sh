#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The npte benchmark suite in one command (see bench/README.md).
#   sudo bench/run.sh [--quick] [--runs N] [--profile] [--helpers LIST] [--out DIR] [bench.py options]
#   sudo bench/run.sh --scale [--quick] [--runs N] [--helpers LIST] [--out DIR] [scale.py options]
# Installs what is missing (tests/deps.sh --bench), builds npte in build-bench (release), makes
# the unprivileged user npte-bench (with /etc/subuid and /etc/subgid ranges), and runs every
# scenario for every helper side by side as that user, over loopback only. Results go to
# bench/out/DATE/ (bench/out/latest points at the last one). --scale runs the scale benchmark
# (bench/scale.py: 10 000-port ranges, 10 000 active connections, the API under load) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/run.sh: run as root (sudo bench/run.sh ...): it installs packages, makes the" \
       "bench user and raises its fd limit; the benchmarks themselves run unprivileged" >&2
  exit 2
fi
user=${NPTE_BENCH_USER:-npte-bench}
out=""
scale=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --scale) scale=1; shift ;;
    -h|--help)
      if [ "$scale" = 1 ]; then python3 bench/scale.py --help; else python3 bench/bench.py --help; fi
      exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

bash tests/deps.sh --bench

if [ ! -f build-bench/build.ninja ]; then
  meson setup build-bench --buildtype=release >/dev/null
fi
ninja -C build-bench npte npte-cli.so bench/connrate bench/scaleload bench/apirate >/dev/null

# The bench user: a login of its own with subordinate id ranges, as for npte-ci in run-all.sh.
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$user"
fi
for f in /etc/subuid /etc/subgid; do
  if ! grep -q "^$user:" "$f"; then
    # the first 65536 ids after every range already given out (and not below 200000)
    start=$(awk -F: 'BEGIN { m = 200000 } { e = $2 + $3; if (e > m) m = e } END { print m }' "$f")
    echo "$user:$start:65536" >> "$f"
  fi
done
# rootlesskit's slirp4netns and pasta open /dev/net/tun from inside a user namespace.
[ -c /dev/net/tun ] && chmod 0666 /dev/net/tun

# Binaries where the bench user can reach them whatever the permissions of this tree.
bindir=$(mktemp -d /tmp/npte-bench-bin.XXXXXX)
trap 'rm -rf "$bindir"' EXIT
cp build-bench/npte build-bench/npte-cli.so build-bench/bench/connrate build-bench/bench/scaleload \
  build-bench/bench/apirate "$bindir/"
chmod 0755 "$bindir" "$bindir/npte" "$bindir/npte-cli.so" "$bindir/connrate" \
  "$bindir/scaleload" "$bindir/apirate"

if [ -z "$out" ]; then
  out=bench/out/$(date +%Y%m%d-%H%M%S)$([ "$scale" = 1 ] && echo -scale)
  mkdir -p "$out"
  ln -sfn "$(basename "$out")" bench/out/latest
fi
mkdir -p "$out"
rc=0
if [ "$scale" = 1 ]; then
  python3 bench/scale.py --npte "$bindir/npte" --scaleload "$bindir/scaleload" \
    --apirate "$bindir/apirate" --user "$user" --out "$out" "${args[@]}" || rc=$?
else
  python3 bench/bench.py --npte "$bindir/npte" --connrate "$bindir/connrate" --user "$user" \
    --out "$out" "${args[@]}" || rc=$?
fi

# No process of the bench user may outlive the run.
left=$(pgrep -u "$user" || true)
if [ -n "$left" ]; then
  echo "bench/run.sh: killing leftover processes of $user: $left" >&2
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  rc=1
fi
exit $rc
