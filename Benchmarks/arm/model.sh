#!/usr/bin/env bash
# The ARM speed MODEL (deterministic; not a measurement). Builds the C kernels for aarch64 exactly
# as SwiftPM builds the CKernels target in release on a board (the Swift toolchain's clang, -O2,
# SwiftPM's flags, generic armv8-a), runs llvm-mca-19 on the GEMM hot loops (cortex-a53,
# cortex-a72, neoverse-n1), counts executed instructions per pass under qemu-aarch64 with a TCG
# plugin (qemu_count.c), and combines them into per-board estimates (model.py).
#   Benchmarks/arm/model.sh                      print the table
#   Benchmarks/arm/model.sh --write LABEL        ... and put it in Benchmarks/RESULTS.md under LABEL
#   Benchmarks/arm/model.sh --check              the test: multiplies = MACs/8 or MACs/16, no shape's
#                                                instruction count 2% above baseline.txt, hot loops
#                                                without spills, >= 95% of peak on A72 and N1, >= 60% on A53
#   Benchmarks/arm/model.sh --write-baseline     record the counts in baseline.txt
# Installs what it needs from Debian when missing (llvm-19, qemu-user, the aarch64 cross libc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
mode=print label=""
case "${1:-}" in
    --check) mode=check ;;
    --write) mode=write; label=${2:?--write needs a label} ;;
    --write-baseline) mode=baseline ;;
    "") ;;
    *) echo "usage: model.sh [--check | --write LABEL | --write-baseline]" >&2; exit 2 ;;
esac

need=()
command -v llvm-mca-19 >/dev/null || need+=(llvm-19)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -e /usr/aarch64-linux-gnu/lib/libc.a ] || need+=(libc6-dev-arm64-cross)
[ -d /usr/lib/gcc-cross/aarch64-linux-gnu ] || need+=(libgcc-12-dev-arm64-cross)
command -v cc >/dev/null || need+=(gcc)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    echo "arm model: installing ${need[*]}" >&2
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >&2
fi

# The compiler SwiftPM uses and the flags `swift build -c release -v` shows for a CKernels file on
# this machine, with the board's target instead of x86_64.
clang=${EDGEBERT_CLANG:-$(dirname "$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)")/clang}
[ -x "$clang" ] || { echo "arm model: the Swift toolchain's clang not found ($clang); set EDGEBERT_CLANG" >&2; exit 1; }
target=(-target aarch64-unknown-linux-gnu --sysroot=/usr/aarch64-linux-gnu --gcc-toolchain=/usr)
flags=(-O2 -DSWIFT_PACKAGE=1 -fblocks -fPIC -g -fno-omit-frame-pointer -I Sources/CKernels/include)
out=.build/arm-model
mkdir -p "$out/obj"

cc -shared -fPIC -O2 "$here/qemu_count.c" -o "$out/qemu_count.so"
pids=()
for f in Sources/CKernels/*.c "$here/bench.c"; do
    "$clang" "${target[@]}" "${flags[@]}" -c "$f" -o "$out/obj/$(basename "$f" .c).o" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
"$clang" "${target[@]}" -static "$out"/obj/*.o -lm -o "$out/bench"
for k in neon neondot; do
    "$clang" "${target[@]}" "${flags[@]}" -g0 -S "Sources/CKernels/gemm_${k/neondot/neon_dot}.c" -o "$out/gemm_$k.s"
done

# Instruction counts: neon on a Cortex-A53 (ARMv8.0), neondot on a Cortex-A76 (qemu refuses SDOT elsewhere).
only=(); [ "$mode" = check ] && only=(--only minilm)
run() {  # cpu path
    qemu-aarch64 -cpu "$1" -plugin "$out/qemu_count.so" -d plugin -D "$out/plugin-$2.txt" "$out/bench" "$2" "${only[@]}" \
        > "$out/regions-$2.txt"
    cat "$out/regions-$2.txt" "$out/plugin-$2.txt" > "$out/counts-$2.txt"
}
run cortex-a53 neon & p1=$!
run cortex-a76 neondot & p2=$!
wait $p1; wait $p2

args=(--asm neon="$out/gemm_neon.s" --asm neondot="$out/gemm_neondot.s"
      --counts neon="$out/counts-neon.txt" --counts neondot="$out/counts-neondot.txt")
case $mode in
    check) python3 "$here/model.py" "${args[@]}" --check --baseline "$here/baseline.txt" ;;
    baseline) python3 "$here/model.py" "${args[@]}" --write-baseline "$here/baseline.txt" >/dev/null
              echo "arm model: wrote $here/baseline.txt" ;;
    write) python3 "$here/model.py" "${args[@]}" --results Benchmarks/RESULTS.md --label "$label" \
                 --commit "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources/CKernels || echo ' + uncommitted changes')" ;;
    print) python3 "$here/model.py" "${args[@]}" ;;
esac
