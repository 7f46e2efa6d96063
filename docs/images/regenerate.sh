#!/usr/bin/env bash
# Regenerates every picture in docs/images. The plots come from the Playground (our own SVG
# writer), the computation graphs from the backprop command's --dot output through Graphviz
# (Debian: apt-get install graphviz).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift run Playground all --output docs/images
swift build --product backprop
backprop=.build/debug/backprop
$backprop grad 'log(sum(exp(x)))' --at x=1,2,3 --dot | dot -Tsvg > docs/images/graph-logsumexp.svg
$backprop grad 'sum(softmax(x) * [1, -2, 0.5])' --at x=1,2,3 --dot | dot -Tsvg > docs/images/graph-softmax-fused.svg
$backprop grad 'sum(softmax_composed(x) * [1, -2, 0.5])' --at x=1,2,3 --dot | dot -Tsvg > docs/images/graph-softmax-composed.svg
$backprop grad 'tanh(a * b + a)' --at a=0.5 --at b=-1.2 --dot | dot -Tsvg > docs/images/graph-chain-rule.svg
