#!/usr/bin/env bash
# Builds the API reference with the toolchain's own docc (no plugin): dump the library's
# symbol graph, then convert the catalog. The result is a static site in .build/docs.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package dump-symbol-graph --minimum-access-level public > /dev/null
graphs=.build/symbol-graphs
rm -rf "$graphs" && mkdir -p "$graphs"
cp .build/*/symbolgraph/Backprop.symbols.json .build/*/symbolgraph/Backprop@*.symbols.json "$graphs" 2>/dev/null || true
docc convert Sources/Backprop/Backprop.docc \
  --additional-symbol-graph-dir "$graphs" \
  --fallback-display-name Backprop --fallback-bundle-identifier org.backprop.Backprop \
  --output-path .build/docs "$@"
echo "API reference written to .build/docs"
