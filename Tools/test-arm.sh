#!/usr/bin/env bash
# Cross-compiles the C kernels and their test driver for aarch64 with Debian's GCC and runs the
# driver under qemu on a Cortex-A53 (ARMv8.0: the SMLAL path) and a Cortex-A76 (dotprod: SDOT).
# qemu raises SIGILL on an instruction the CPU lacks, so a wrong dispatch fails loudly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
    echo "test-arm: installing ${need[*]}" >&2
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >&2
fi
mkdir -p .build/kernel-driver
out=.build/kernel-driver/driver-aarch64
aarch64-linux-gnu-gcc -O2 -ffp-contract=off -static -I Sources/CKernels/include Sources/CKernels/*.c \
    Tests/CKernelsDriver/driver.c -lm -o "$out"
fail=0
for cpu in cortex-a53:neon cortex-a76:neondot; do
    name=${cpu%%:*}; expect=${cpu##*:}
    echo "-- qemu-aarch64 -cpu $name"
    if ! qemu-aarch64 -cpu "$name" "$out" --expect "$expect" | sed "s/^/$name /"; then fail=1; fi
done
[ $fail -eq 0 ] && echo "test-arm: PASS on cortex-a53 and cortex-a76" || { echo "test-arm: FAIL" >&2; exit 1; }
