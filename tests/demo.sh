#!/bin/bash
# The npte demo: install what is missing, build, forward a host port into a new
# rootless namespace, fetch a page through it, print the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
if [ -c /dev/net/tun ] && [ "$(id -u)" -eq 0 ]; then chmod 0666 /dev/net/tun; fi

work=$(mktemp -d)
trap 'kill $npte_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "hello from inside an npte namespace" > "$work/index.html"
mkfifo "$work/ready"
build/npte run --state-dir "$work/state" --ready-fd 3 -p "127.0.0.1:$port:80/tcp" -- \
  sh -c 'exec timeout 60 python3 -m http.server 80 --bind 127.0.0.1 --directory "$1" 2>/dev/null' \
  sh "$work" 3>"$work/ready" &
npte_pid=$!
ready=$(timeout 20 head -c 1 "$work/ready" || true)   # npte writes "1", no newline
[ "$ready" = "1" ] || { echo "demo: npte did not become ready" >&2; exit 1; }
echo "\$ npte run -p 127.0.0.1:$port:80/tcp -- python3 -m http.server 80"
for _ in $(seq 50); do
  out=$(curl -sf "http://127.0.0.1:$port/index.html" 2>/dev/null) && break
  sleep 0.1
done
echo "\$ curl http://127.0.0.1:$port/index.html"
echo "${out:-FAILED}"
echo "\$ npte-port ls"
build/npte-port --state-dir "$work/state" ls
[ "${out:-}" = "hello from inside an npte namespace" ]
