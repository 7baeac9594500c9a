#!/usr/bin/env bash
# libFuzzer harnesses for EdgeBERT's input parsers (Tests/Fuzz/README.md).
#
#   Tools/fuzz.sh TARGET SECONDS       build TARGET's harness and fuzz it for SECONDS
#                                      (0: run the corpus once, no fuzzing)
#   Tools/fuzz.sh all SECONDS          every target in turn
#   Tools/fuzz.sh TARGET repro FILE    run the harness on one input (a crasher), with the stack
#   Tools/fuzz.sh TARGET minimize FILE minimise a crashing input (writes FILE.min)
#   Tools/fuzz.sh TARGET build         build only; prints the binary's path
#
# Targets: model safetensors json vocab tokenizer lines http request index onnx.
# The harness (Tests/Fuzz/TARGET.swift) is compiled with every Swift source of the library into one
# module (so internal names are visible), with swiftc -sanitize=fuzzer,address; CKernels' C files
# with clang -fsanitize=address,fuzzer-no-link. Builds are cached by content. All output goes to
# .build/fuzz/: the working corpus (seeded from Tests/Fuzz/corpus/TARGET), crashes/TARGET/, logs/.
# Prints one summary line per target; exits 1 if any run found a crash (or timeout, leak, OOM).
# FUZZ_KEEP_GOING=1 keeps fuzzing after a crash (libFuzzer's fork mode) to collect several.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/.build/fuzz
TARGETS=(model safetensors json vocab tokenizer lines http request index onnx)

die() { echo "fuzz.sh: $*" >&2; exit 2; }
usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
TARGET=$1; shift
if [ "$TARGET" != all ]; then
    [ -f "$ROOT/Tests/Fuzz/$TARGET.swift" ] || die "unknown target '$TARGET' (${TARGETS[*]} or all)"
fi
command -v swiftc >/dev/null || die "swiftc not found"
CLANG=$(command -v clang || true)
[ -n "$CLANG" ] || CLANG=$(dirname "$(command -v swiftc)")/clang
[ -x "$CLANG" ] || die "clang not found (the one beside swiftc is needed)"

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock -n 9 || { echo "fuzz.sh: waiting for another fuzz.sh run" >&2; flock 9; }

CFLAGS=(-O1 -g -fsanitize=address -fsanitize=fuzzer-no-link)
SWIFTFLAGS=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g -module-name EdgeBERTFuzz)
LINKER=()
if swiftc -use-ld=lld -version >/dev/null 2>&1 && [ -x "$(dirname "$(command -v swiftc)")/ld.lld" ]; then
    LINKER=(-use-ld=lld)   # gold warns about every ASan helper symbol
fi

# The sources are snapshotted once per run (another build may be editing them), hashed, and built
# from the snapshot; a build whose inputs hash the same as the last one is reused.
SNAP=
snapshot() {
    [ -n "$SNAP" ] && return
    SNAP=$OUT/src
    rm -rf "$SNAP.new"
    mkdir -p "$SNAP.new/Sources" "$SNAP.new/Fuzz"
    cp -a "$ROOT/Sources/EdgeBERT" "$ROOT/Sources/CKernels" "$SNAP.new/Sources/"
    cp -a "$ROOT/Tests/Fuzz/"*.swift "$SNAP.new/Fuzz/"
    rm -rf "$SNAP"
    mv "$SNAP.new" "$SNAP"
}

hash_of() { (cd "$SNAP" && find "$@" -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16); }

CKERNELS_LIB=
build_ckernels() {
    [ -n "$CKERNELS_LIB" ] && return
    local key dir
    key=$( (hash_of Sources/CKernels; echo "${CFLAGS[*]}"; "$CLANG" --version | head -1) | sha256sum | cut -c1-16)
    dir=$OUT/ckernels/$key
    if [ ! -f "$dir/libckernels.a" ]; then
        echo "fuzz.sh: compiling CKernels (ASan)" >&2
        rm -rf "$dir"; mkdir -p "$dir/obj"
        for c in "$SNAP"/Sources/CKernels/*.c; do
            "$CLANG" -c "${CFLAGS[@]}" -I "$SNAP/Sources/CKernels/include" "$c" -o "$dir/obj/$(basename "$c" .c).o"
        done
        ar rcs "$dir/libckernels.a" "$dir"/obj/*.o
        rm -rf "$dir/obj"
    fi
    # The module map SwiftPM would generate for CKernels: the whole include directory.
    cat > "$SNAP/module.modulemap" <<EOF
module CKernels {
    umbrella "$SNAP/Sources/CKernels/include"
    export *
    module * { export * }
}
EOF
    CKERNELS_LIB=$dir/libckernels.a
}

# build TARGET: sets BIN
build() {
    local t=$1 key
    snapshot
    build_ckernels
    BIN=$OUT/bin/fuzz-$t
    key=$( (hash_of Sources/EdgeBERT "Fuzz/$t.swift"; echo "$CKERNELS_LIB ${SWIFTFLAGS[*]} ${LINKER[*]}"; swiftc --version 2>&1 | head -1) | sha256sum | cut -c1-16)
    if [ -x "$BIN" ] && [ "$(cat "$BIN.key" 2>/dev/null)" = "$key" ]; then
        return
    fi
    echo "fuzz.sh: compiling $t (swiftc -sanitize=fuzzer,address)" >&2
    mkdir -p "$OUT/bin" "$OUT/module-cache"
    rm -f "$BIN" "$BIN.key"
    local sources
    mapfile -t sources < <(find "$SNAP/Sources/EdgeBERT" -name '*.swift' | LC_ALL=C sort)
    if ! swiftc "${SWIFTFLAGS[@]}" "${LINKER[@]}" \
        -module-cache-path "$OUT/module-cache" \
        -Xcc -fmodule-map-file="$SNAP/module.modulemap" -I "$SNAP/Sources/CKernels/include" \
        "${sources[@]}" "$SNAP/Fuzz/$t.swift" \
        "$CKERNELS_LIB" -lm -o "$BIN" > "$OUT/build-$t.log" 2>&1; then
        grep -E 'error' "$OUT/build-$t.log" | head -20 >&2
        die "build of $t failed (full log: $OUT/build-$t.log)"
    fi
    echo "$key" > "$BIN.key"
}

# Environment of every harness run: a scratch directory for the files the harnesses write.
TMPROOT=
scratch() {
    [ -n "$TMPROOT" ] && return
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPROOT=$(mktemp -d /dev/shm/edgebert-fuzz.XXXXXX)
    else mkdir -p "$OUT/tmp"; TMPROOT=$(mktemp -d "$OUT/tmp/run.XXXXXX"); fi
    trap 'rm -rf "$TMPROOT"' EXIT
    export EDGEBERT_FUZZ_TMP=$TMPROOT
    export EDGEBERT_FUZZ_VOCAB=$ROOT/Tests/Fixtures/tokenizer/vocab-uncased.txt
    export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:symbolize=1}
    # Swift's own crash backtracer would race libFuzzer's handler (and can hang): off.
    export SWIFT_BACKTRACE=enable=no
}

count_artifacts() { find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | wc -l; }

FOUND=0
run() {
    local t=$1 secs=$2
    build "$t"
    scratch
    local corpus=$OUT/corpus/$t crashes=$OUT/crashes/$t log=$OUT/logs/$t.log before after
    mkdir -p "$corpus" "$crashes" "$OUT/logs"
    if [ -d "$ROOT/Tests/Fuzz/corpus/$t" ]; then cp -f "$ROOT/Tests/Fuzz/corpus/$t"/* "$corpus/" 2>/dev/null || true; fi
    before=$(count_artifacts "$crashes")
    local args=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/")
    if [ "$secs" -eq 0 ]; then args+=(-runs=0)
    else args+=(-max_total_time="$secs"); fi
    if [ "${FUZZ_KEEP_GOING:-0}" = 1 ] && [ "$secs" -gt 0 ]; then
        args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    echo "fuzz.sh: $t for ${secs}s, log $log" >&2
    local rc=0
    (cd "$TMPROOT" && "$BIN" "${args[@]}" "$corpus") > "$log" 2>&1 || rc=$?
    after=$(count_artifacts "$crashes")
    local stats execs cov ft files new
    stats=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1 || true)
    execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || true)
    [ -n "$execs" ] || execs=$(echo "$stats" | grep -oE '^#[0-9]+' | tr -d '#' || true)
    cov=$(echo "$stats" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || true)
    ft=$(echo "$stats" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || true)
    files=$(find "$corpus" -maxdepth 1 -type f | wc -l)
    new=$((after - before))
    if [ "$new" -eq 0 ] && [ "$rc" -ne 0 ]; then
        # libFuzzer failed without an artifact (a harness crash outside an input, a bad flag).
        echo "fuzz.sh: $t: libFuzzer exited $rc without an artifact; tail of $log:" >&2
        tail -20 "$log" >&2
        new=1
    fi
    printf 'fuzz %-12s execs=%s cov=%s ft=%s corpus=%s crashes=%s%s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
        "$files" "$new" "$( [ "$new" -gt 0 ] && echo " (see $crashes/, $log)")"
    if [ "$new" -gt 0 ]; then
        # The first error and the first frame in the library or the harness.
        { grep -m1 -oE 'Swift runtime failure: [^/]*[a-z]|Fatal error: .*' "$log" \
            || grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): .*' "$log" || true; } | sed 's/^/  /'
        grep -m1 -E '^ +#[0-9]+ .*(/Sources/EdgeBERT/|/Fuzz/)' "$log" | grep -oE '[^ ]+\.swift:[0-9]+(:[0-9]+)?' \
            | sed -E "s|^$OUT/src/||; s|^Fuzz/|Tests/Fuzz/|; s/^/  at /" || true
        FOUND=1
    fi
}

if [ "$TARGET" = all ]; then
    [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+$ ]] || usage
    for t in "${TARGETS[@]}"; do run "$t" "$1"; done
elif [ $# -eq 1 ] && [ "$1" = build ]; then
    build "$TARGET"; echo "$BIN"
elif [ $# -eq 2 ] && [ "$1" = repro ]; then
    build "$TARGET"; scratch
    f=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    rc=0; (cd "$TMPROOT" && "$BIN" -runs=1 "$f") || rc=$?
    exit $rc
elif [ $# -eq 2 ] && [ "$1" = minimize ]; then
    build "$TARGET"; scratch
    f=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    (cd "$TMPROOT" && "$BIN" -minimize_crash=1 -max_total_time="${FUZZ_MINIMIZE_SECONDS:-60}" -timeout=10 \
        -exact_artifact_path="$f.min" "$f") > "$OUT/logs/$TARGET-minimize.log" 2>&1 || true
    [ -f "$f.min" ] || die "no minimised input (log: $OUT/logs/$TARGET-minimize.log)"
    echo "$f.min ($(wc -c < "$f.min") bytes, from $(wc -c < "$f"))"
elif [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    run "$TARGET" "$1"
else
    usage
fi
exit $FOUND
