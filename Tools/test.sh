#!/usr/bin/env bash
# The one test command: fetches the real models if missing (all-MiniLM-L6-v2, and
# paraphrase-MiniLM-L3-v2 as a float ONNX export), runs every Swift test against them in an
# optimised build (and fails if any real-model test was skipped), runs the C kernel driver on this
# CPU, then the ARM kernels under qemu (Tools/test-arm.sh) and the ARM speed model's check
# (Benchmarks/arm/model.sh --check: installs llvm-19 and qemu-user from Debian when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
model_dir=$("$root/Tools/fetch_model.sh" all-MiniLM-L6-v2)
export EDGEBERT_MODEL_DIR="$model_dir"
onnx_model=$("$root/Tools/fetch_model.sh" --weights paraphrase-MiniLM-L3-v2)
export EDGEBERT_ONNX_MODEL="$onnx_model"

echo "== C kernels on this CPU (every supported path against the scalar twin)"
mkdir -p .build/kernel-driver
cc -O2 -ffp-contract=off -I Sources/CKernels/include Sources/CKernels/*.c Tests/CKernelsDriver/driver.c -lm \
   -o .build/kernel-driver/driver-native
echo "== C kernels under AddressSanitizer and UndefinedBehaviorSanitizer (any report fails the run)"
cc -O1 -g -fno-omit-frame-pointer -ffp-contract=off -fsanitize=address,undefined -fno-sanitize-recover=all \
   -I Sources/CKernels/include Sources/CKernels/*.c Tests/CKernelsDriver/driver.c -lm -o .build/kernel-driver/driver-sanitized
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   .build/kernel-driver/driver-sanitized
.build/kernel-driver/driver-native
if grep -qw avx512_vnni /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && ! grep -qw avx_vnni /proc/cpuinfo; then
    echo "== AVX-VNNI kernel logic, built with the EVEX form of vpdpbusd (this CPU has AVX-512 VNNI only)"
    cc -O2 -ffp-contract=off -DEK_TEST_AVXVNNI_AS_EVEX -I Sources/CKernels/include Sources/CKernels/*.c \
       Tests/CKernelsDriver/driver.c -lm -o .build/kernel-driver/driver-avxvnni-evex
    .build/kernel-driver/driver-avxvnni-evex --also avxvnni | grep avxvnni
fi

echo "== swift test (release, with EDGEBERT_MODEL_DIR=$model_dir, EDGEBERT_ONNX_MODEL=$onnx_model)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test -c release -Xswiftc -enable-testing --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "test.sh: swift test failed" >&2; exit "$status"; }
# RealModelTests (MiniLM-L6) and OnnxRealModelTests (MiniLM-L3 through ONNX) must all have run.
if grep -qE "(RealModelTests|OnnxRealModelTests).*skipped" "$log"; then
    echo "test.sh: a real-model test was skipped" >&2
    exit 1
fi

echo "== Sharing: an Embedder across threads must not compile, an EmbedderPool must (Swift 6 checking)"
bin=$(swift build -c release --show-bin-path)
typecheck() { swiftc -typecheck -swift-version 6 -I "$bin/Modules" -Xcc -fmodule-map-file="$bin/CKernels.build/module.modulemap" \
                     -I Sources/CKernels/include "$1" 2>&1; }
share_out=$(typecheck Tests/Compile/share-embedder.swift || true)
echo "$share_out" | grep -q "non-Sendable type 'Embedder'" || { echo "test.sh: sharing an Embedder compiled: $share_out" >&2; exit 1; }
typecheck Tests/Compile/share-pool.swift || { echo "test.sh: sharing an EmbedderPool does not compile" >&2; exit 1; }
echo "PASS: compile checks (Embedder is not Sendable, EmbedderPool is)"

echo "== edgebert serve against the OpenAI Python SDK and curl (loopback)"
serve_log=$(mktemp)
bash "$root/Tools/test-serve.sh" | tee "$serve_log"
serve_pass=$(grep -c "^PASS:" "$serve_log" || true)
rm -f "$serve_log"

echo "== ARM kernels under qemu"
arm_log=$(mktemp)
trap 'rm -f "$log" "$arm_log"' EXIT
"$root/Tools/test-arm.sh" | tee "$arm_log"
echo "== ARM speed model: GEMM multiplies = MACs/8 and MACs/16, instruction counts against Benchmarks/arm/baseline.txt"
"$root/Benchmarks/arm/model.sh" --check | tee -a "$arm_log"
# One closing line for every runner: the XCTest total plus the C driver's PASS lines.
last=$(grep -E "Executed [0-9]+ tests" "$log" | tail -1)
total=$(echo "$last" | sed -E 's/.*Executed ([0-9]+) tests.*/\1/')
failed=$(echo "$last" | sed -E 's/.* ([0-9]+) failures.*/\1/')
kernel_pass=$(grep -c "^.*PASS:" "$arm_log" || true)
kernel_pass=$((kernel_pass + 1 + serve_pass))  # the compile checks and the client checks
echo "test.sh: all tests passed"
echo "tests: $((total - failed + kernel_pass)) passed, $failed failed"
