#!/bin/bash
# Static analysis of npte's C sources (src/ parent/ child/ proto/): clang-tidy with the checks
# of .clang-tidy, and cppcheck. Fails on any finding that is not a listed false positive.
#   tests/clang-tidy-suppressions.txt  CHECK | FILE | TEXT OF THE REPORTED LINE | REASON
#   tests/cppcheck-suppressions.txt    cppcheck's format, a "# reason" line above each entry
# A suppression that no longer matches anything also fails, so the lists stay true.
# Usage: tests/static-analysis.sh BUILD_DIR   (a configured build: BUILD_DIR/compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
jobs=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rc=0

# The translation units of the four directories, as the build compiles them.
python3 - "$build/compile_commands.json" "$src" > "$out/files" <<'EOF'
import json, os, sys
src = sys.argv[2]
for e in json.load(open(sys.argv[1])):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, src)
    if rel.split(os.sep)[0] in ("src", "parent", "child", "proto") and rel.endswith(".c"):
        print(f)
EOF
sort -u -o "$out/files" "$out/files"
echo "static analysis: $(wc -l < "$out/files") files"

echo "--- clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)"
# One file per run: clang 14 reports va_list false positives when it gets several at once.
if ! xargs -P "$jobs" -n 1 clang-tidy -p "$build" --quiet < "$out/files" \
     > "$out/tidy" 2> "$out/tidy.err"; then
  cat "$out/tidy" "$out/tidy.err"
  echo "clang-tidy failed to run"
  rc=1
fi
python3 - "$out/tidy" "$build" "$src" tests/clang-tidy-suppressions.txt <<'EOF' || rc=1
import os, re, sys
report, build, src, supfile = sys.argv[1:]
sups = []
for n, line in enumerate(open(supfile), 1):
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    parts = [p.strip() for p in line.split("|")]
    if len(parts) != 4 or not all(parts):
        sys.exit("%s:%d: expected CHECK | FILE | TEXT | REASON" % (supfile, n))
    sups.append({"check": parts[0], "file": parts[1], "text": parts[2], "where": n, "used": 0})
diag = re.compile(r"^(.+?):(\d+):(\d+): (warning|error): (.*) \[([^\]]+)\]$")
bad = 0
seen = set()
for line in open(report):
    m = diag.match(line.rstrip("\n"))
    if not m:
        continue
    path, lno, _, kind, msg, checks = m.groups()
    path = os.path.relpath(os.path.normpath(os.path.join(build, path)), src)
    if (path, lno, checks) in seen:  # a header's finding comes once per includer
        continue
    seen.add((path, lno, checks))
    try:
        text = open(os.path.join(src, path)).read().split("\n")[int(lno) - 1]
    except (OSError, IndexError):
        text = ""
    hit = [s for s in sups if kind == "warning" and s["check"] in checks.split(",")
           and s["file"] in ("*", path) and s["text"] in text]
    for s in hit:
        s["used"] += 1
    if not hit:
        bad += 1
        print("%s:%s: %s: %s [%s]\n    %s" % (path, lno, kind, msg, checks, text.strip()))
for s in sups:
    if not s["used"]:
        bad += 1
        print("%s:%d: stale suppression, nothing matches it any more: remove it"
              % (supfile, s["where"]))
print("clang-tidy: %d finding(s), %d false positive(s) suppressed"
      % (bad, sum(s["used"] for s in sups)))
sys.exit(1 if bad else 0)
EOF

echo "--- cppcheck $(cppcheck --version | sed 's/^Cppcheck //')"
# --file-filter matches paths as cppcheck prints them: relative when the project path is.
# Headers are checked through the .c files that include them.
if ! cppcheck --project="$(realpath --relative-to="$src" "$build")/compile_commands.json" \
     --file-filter='src/*' --file-filter='parent/*' --file-filter='child/*' \
     --file-filter='proto/*' \
     --error-exitcode=1 --inline-suppr --enable=warning,portability,performance \
     --suppressions-list=tests/cppcheck-suppressions.txt \
     -j "$jobs" --quiet --template='{file}:{line}: {severity}: {message} [{id}]'; then
  echo "cppcheck: findings above"
  rc=1
else
  echo "cppcheck: 0 findings"
fi
exit $rc
