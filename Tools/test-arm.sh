#!/usr/bin/env bash
# Cross-compiles the C kernels and their test driver for aarch64 with Debian's GCC and runs the
# driver under qemu on a Cortex-A53 (ARMv8.0: the SMLAL path) and a Cortex-A76 (dotprod: SDOT).
# qemu raises SIGILL on an instruction the CPU lacks, so a wrong dispatch fails loudly.
# Then the same with the compiler and flags SwiftPM uses on a board (the Swift toolchain's clang,
# -O2, `swift build -c release -v`'s flags), when that clang is here: what ships is what is tested.
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
builds=("$out:gcc")
clang=${EDGEBERT_CLANG:-$(dirname "$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)")/clang}
if [ -x "$clang" ]; then
    target=(-target aarch64-unknown-linux-gnu --sysroot=/usr/aarch64-linux-gnu --gcc-toolchain=/usr)
    flags=(-O2 -DSWIFT_PACKAGE=1 -fblocks -fPIC -g -fno-omit-frame-pointer -I Sources/CKernels/include)
    mkdir -p .build/kernel-driver/clang-obj
    pids=()
    for f in Sources/CKernels/*.c Tests/CKernelsDriver/driver.c; do
        "$clang" "${target[@]}" "${flags[@]}" -c "$f" -o ".build/kernel-driver/clang-obj/$(basename "$f" .c).o" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    "$clang" "${target[@]}" -static .build/kernel-driver/clang-obj/*.o -lm -o "$out-clang"
    builds+=("$out-clang:clang")
else
    echo "test-arm: no Swift toolchain clang ($clang): the SwiftPM-flags build is skipped"
fi
fail=0
for build in "${builds[@]}"; do
    bin=${build%%:*}; cc_name=${build##*:}
    for cpu in cortex-a53:neon cortex-a76:neondot; do
        name=${cpu%%:*}; expect=${cpu##*:}
        echo "-- qemu-aarch64 -cpu $name ($cc_name build)"
        if ! qemu-aarch64 -cpu "$name" "$bin" --expect "$expect" | sed "s/^/$name $cc_name /"; then fail=1; fi
    done
done
[ $fail -eq 0 ] && echo "test-arm: PASS on cortex-a53 and cortex-a76" || { echo "test-arm: FAIL" >&2; exit 1; }
