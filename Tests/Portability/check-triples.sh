#!/usr/bin/env bash
# Compiles every C kernel for the four triples Backprop supports and fails on any diagnostic:
# arm64-apple-macosx13 and x86_64-apple-macosx13 (against the declaration-only headers in
# darwin-include, freestanding, since no macOS SDK is at hand here), aarch64-linux-gnu (against
# Debian's cross headers, libc6-dev-arm64-cross) and x86_64-linux-gnu. Each file is compiled to an
# object with -O2, not only parsed, so that the back end's complaints (a target attribute naming
# a feature the architecture lacks) count too. Then checks that the files that must give the bits
# of Swift's scalar rules contract nothing. Usage: check-triples.sh [clang]
set -euo pipefail
cd "$(dirname "$0")/../.."
clang="${1:-$(dirname "$(command -v swift)")/clang}"
kernels=Sources/BackpropKernels
aarch64_root=/usr/aarch64-linux-gnu
bash Tests/Portability/install-cross.sh
output=$(mktemp -d)
trap 'rm -rf "$output"' EXIT
failures=0
for triple in arm64-apple-macosx13 x86_64-apple-macosx13 aarch64-linux-gnu x86_64-linux-gnu; do
  case "$triple" in
    *-apple-*) flags=(-ffreestanding -isystem Tests/Portability/darwin-include) ;;
    aarch64-linux-gnu) flags=(--sysroot="$aarch64_root" -isystem "$aarch64_root/include") ;;
    *) flags=() ;;
  esac
  count=0
  for file in "$kernels"/*.c; do
    diagnostics=$("$clang" --target="$triple" "${flags[@]}" -I"$kernels/include" -std=gnu11 -O2 \
      -Wall -Wextra -c "$file" -o "$output/kernel.o" 2>&1) || true
    if [ -n "$diagnostics" ] || [ ! -s "$output/kernel.o" ]; then
      echo "$triple: $file"
      echo "$diagnostics" | head -20
      failures=$((failures + 1))
    fi
    rm -f "$output/kernel.o"
    count=$((count + 1))
  done
  echo "$triple: $count files compiled"
done

# The files whose kernels give the bits of Swift's scalar rules, which Swift never fuses, must
# hold no contractible a · b + c (BackpropKernels.h states the policy): clang marks each one it
# would fuse as llvm.fmuladd.
for file in ArcSine ArcTangent Arithmetic Huber Maximum Reductions; do
  fused=$("$clang" -I"$kernels/include" -std=gnu11 -O0 -S -emit-llvm "$kernels/$file.c" -o - |
    grep -c 'llvm.fmuladd' || true)
  if [ "$fused" != 0 ]; then
    echo "$kernels/$file.c: $fused contracted multiply-adds; write each product as a statement of its own"
    failures=$((failures + 1))
  fi
done
echo "no contraction in the files that must give Swift's bits"

# On aarch64 the portable lanes must become NEON: fused multiply-adds on two-lane registers in
# the matrix product's micro-kernel and the exponential's loop, and no call of the C library's
# scalar functions in place of a lane operation.
neon() { # file, function, least count of fmla v.2d
  local count calls
  "$clang" --target=aarch64-linux-gnu --sysroot="$aarch64_root" -I"$kernels/include" -std=gnu11 \
    -O2 -S "$kernels/$1" -o "$output/neon.s"
  count=$(awk -v f="$2:" '$1 == f {on = 1; next} on && /^\.Lfunc_end/ {on = 0} on' "$output/neon.s" |
    grep -cE 'fmla[[:space:]]+v[0-9]+\.2d' || true)
  calls=$(awk -v f="$2:" '$1 == f {on = 1; next} on && /^\.Lfunc_end/ {on = 0} on' "$output/neon.s" |
    grep -cE '[[:space:]]bl[[:space:]]+(fma|exp|log)' || true)
  if [ "$count" -lt "$3" ] || [ "$calls" != 0 ]; then
    echo "$kernels/$1: $2 has $count fmla v.2d (at least $3 expected) and $calls libm calls on aarch64"
    failures=$((failures + 1))
  fi
}
neon MatrixProduct.c product_portable 16
neon Exponential.c bp_exponentials_w0 40
echo "NEON fused multiply-adds in the matrix product and the exponential on aarch64"

if [ "$failures" -gt 0 ]; then
  echo "check-triples: $failures failures" >&2
  exit 1
fi
