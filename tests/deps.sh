#!/bin/bash
# Installs what npte needs to build and test on Debian 12, if anything is missing.
# Usage: tests/deps.sh [--bench]   (as root, or with sudo available)
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev
      libglib2.0-dev libjson-glib-dev libmicrohttpd-dev libev-dev libslirp-dev libmnl-dev
      libcmocka-dev libseccomp-dev scdoc python3 curl iproute2 uidmap passwd procps
      rootlesskit clang-tidy cppcheck valgrind)
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(rootlesskit slirp4netns passt iperf3 socat sockperf hyperfine linux-perf strace)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
