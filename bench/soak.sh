#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Soak test of one npte instance (see bench/README.md, "Soak"): 1 000 000 sequential TCP
# connections and 1 GB of UDP through one forward, with npte's fds and memory sampled from start
# to end and its error counters checked.
#   sudo bench/soak.sh [--quick] [--builddir DIR] [--out DIR] [soak.py options]
# --quick: 50 000 connections and 100 MB (a few minutes). Builds npte (release) in DIR
# (default build-bench), makes its user as bench/run.sh makes the bench user, runs bench/soak.py as
# root; npte and the clients run as their own user ($NPTE_SOAK_USER, default npte-soak), made
# like run.sh's npte-bench but separate, because run.sh kills every process of its user between
# scenarios and the two may run at the same time.
# Results go to bench/out/DATE-soak/ (bench/out/latest-soak points at the last one).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/soak.sh: run as root (sudo bench/soak.sh ...): it makes the bench user and raises" \
       "its fd limit; npte and the clients run unprivileged" >&2
  exit 2
fi
user=${NPTE_SOAK_USER:-npte-soak}
builddir=build-bench
out=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --builddir) builddir=${2:?--builddir needs a directory}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    -h|--help) python3 bench/soak.py --help; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" --buildtype=release >/dev/null
fi
ninja -C "$builddir" npte npte-cli.so npte-port bench/connrate >/dev/null

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

# Binaries where the bench user can reach them whatever the permissions of this tree.
bindir=$(mktemp -d /tmp/npte-soak-bin.XXXXXX)
trap 'rm -rf "$bindir"' EXIT
cp "$builddir/npte" "$builddir/npte-cli.so" "$builddir/npte-port" "$builddir/bench/connrate" \
  "$bindir/"
chmod 0755 "$bindir" "$bindir"/*

if [ -z "$out" ]; then
  out=bench/out/$(date +%Y%m%d-%H%M%S)-soak
  mkdir -p "$out"
  ln -sfn "$(basename "$out")" bench/out/latest-soak
fi
mkdir -p "$out"
rc=0
python3 bench/soak.py --npte "$bindir/npte" --npte-port "$bindir/npte-port" \
  --connrate "$bindir/connrate" --user "$user" --out "$out" "${args[@]}" || rc=$?

# The user is the soak's own: any process of it still running was started by this run. Zombies
# only wait for init to reap them (the payload's children are reparented there).
left=""
for p in $(pgrep -u "$user" || true); do
  state=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ] && left="$left $p"
done
if [ -n "$left" ]; then
  echo "bench/soak.sh: killing leftover processes of $user:$left" >&2
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  rc=1
fi
exit $rc
