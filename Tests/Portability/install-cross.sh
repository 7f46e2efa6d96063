#!/usr/bin/env bash
# Installs what the portability checks need, when it is missing and this is root: Debian's
# qemu-user (to run aarch64 programs), libc6-dev-arm64-cross (aarch64's C headers and libraries)
# and gcc-aarch64-linux-gnu (its C runtime objects, which clang links against).
set -euo pipefail
if command -v qemu-aarch64 > /dev/null && [ -d /usr/aarch64-linux-gnu/include ] &&
  [ -d /usr/lib/gcc-cross/aarch64-linux-gnu ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    qemu-user libc6-dev-arm64-cross gcc-aarch64-linux-gnu > /dev/null
else
  echo "install-cross: needs qemu-user, libc6-dev-arm64-cross and gcc-aarch64-linux-gnu" >&2
  exit 1
fi
