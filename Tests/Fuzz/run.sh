#!/usr/bin/env bash
# Coverage-guided fuzzing of the backprop command with libFuzzer.
#   bash Tests/Fuzz/run.sh            # one minute, as CI runs it
#   bash Tests/Fuzz/run.sh 3600       # an hour
# The seed corpus in Tests/Fuzz/corpus is read, never written: new inputs go to a scratch
# corpus in .build-fuzz/corpus, and a crashing input to .build-fuzz/crash-*. An input that runs
# longer than 20 s or grows past 3 GiB is a finding too (.build-fuzz/timeout-*, oom-*): the
# harness gives every run budgets of 1e7 operations and 512 MiB, which the command must keep.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
# libFuzzer brings its own main, so the harness's replay entry point is renamed.
swift build --sanitize fuzzer --product FuzzCommand --scratch-path .build-fuzz \
  -Xswiftc -Xfrontend -Xswiftc -entry-point-function-name -Xswiftc -Xfrontend -Xswiftc fuzz_replay_main
mkdir -p .build-fuzz/corpus
# Swift's own backtracer would catch a trap first and end the process before libFuzzer writes
# the crashing input to .build-fuzz/crash-*; libFuzzer's report is enough.
export SWIFT_BACKTRACE=enable=no
.build-fuzz/debug/FuzzCommand -max_total_time="$seconds" -print_final_stats=1 \
  -timeout=20 -rss_limit_mb=3072 -max_len=4096 \
  -artifact_prefix=.build-fuzz/ .build-fuzz/corpus Tests/Fuzz/corpus
