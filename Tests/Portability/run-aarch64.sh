#!/usr/bin/env bash
# Runs every C kernel on aarch64 for real, under qemu-aarch64, and requires its outputs to equal,
# bit for bit, the x86-64 outputs on the same inputs (Tests/Portability/kernel-outputs.c says
# which; a NaN counts as NaN). The aarch64 build is the portable lanes, which become NEON; the
# x86-64 builds compared are AVX2 and, where the processor has it, AVX-512: like every aarch64
# build they have fused multiply-adds, which the contraction policy uses (BackpropKernels.h).
# Installs what it needs first (install-cross.sh). Usage: run-aarch64.sh [clang]
set -euo pipefail
cd "$(dirname "$0")/../.."
clang="${1:-$(dirname "$(command -v swift)")/clang}"
kernels=Sources/BackpropKernels
root=/usr/aarch64-linux-gnu

bash Tests/Portability/install-cross.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sources=("$kernels"/*.c Tests/Portability/kernel-outputs.c)
"$clang" -std=gnu11 -O2 -I"$kernels/include" "${sources[@]}" -lm -lpthread -o "$work/x86_64"
"$clang" --target=aarch64-linux-gnu --sysroot="$root" --gcc-toolchain=/usr -std=gnu11 -O2 \
  -I"$kernels/include" "${sources[@]}" -fuse-ld=lld -static -lm -lpthread -o "$work/aarch64"

qemu-aarch64 "$work/aarch64" 0 > "$work/aarch64.txt" 2> "$work/error.txt"
compared=0
for width in 256 512; do
  if "$work/x86_64" "$width" > "$work/x86_64-$width.txt" 2> "$work/error.txt"; then
    if ! cmp -s "$work/x86_64-$width.txt" "$work/aarch64.txt"; then
      echo "run-aarch64: aarch64 differs from x86-64 width $width (< x86-64, > aarch64):" >&2
      diff "$work/x86_64-$width.txt" "$work/aarch64.txt" | head -40 >&2
      exit 1
    fi
    echo "aarch64 (qemu) equals x86-64 width $width: $(grep -c '^# ' "$work/aarch64.txt") sections, $(wc -l < "$work/aarch64.txt") outputs"
    compared=$((compared + 1))
  fi
done
if [ "$compared" = 0 ]; then
  echo "run-aarch64: this processor has no FMA build to compare aarch64 against; ran it only" >&2
fi
