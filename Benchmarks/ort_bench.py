#!/usr/bin/env python3
"""ONNX Runtime int8 baseline for `edgebert bench`.

Exports a Hugging Face BertModel folder (config.json, vocab.txt, model.safetensors) to ONNX,
quantizes it with onnxruntime's dynamic int8 quantizer (per-channel weights), and times
`session.run` on one synthetic text of exactly --seq tokens, the same input `edgebert bench`
builds: [CLS] the the ... the [SEP].

One JSON line per (seq, threads):
  {"engine":"onnxruntime-int8","seq":..,"threads":..,"median_ms":..,"p90_ms":..,"peak_rss_bytes":..}

Mean pooling (and L2 normalisation) is not part of the timed call: over one sequence it is a
few thousand additions, negligible next to the encoder, so the model's last_hidden_state is
what is timed.

Each (seq, threads) pair is timed in a fresh child process of this script that imports only
onnxruntime and numpy, so that its peak RSS (VmHWM, see peak_rss_bytes) is that of ONNX Runtime with the int8
model, not of torch and the export, and is comparable with `edgebert bench`, which also runs
once per pair.

  --random-bert-base   build a BERT-base-sized BertModel with random weights (fixed seed),
                       save it with save_pretrained(safe_serialization=True) into
                       WORK/bert-base-random (vocab.txt and tokenizer_config.json copied from
                       --model-dir), and benchmark that folder; EdgeBERT can quantize the same
                       folder. With --prepare-only, stop after writing, exporting and quantizing
                       and print the folder's path.
"""

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WORK = os.path.join(HERE, "out")
SEED = 1234


QUIET = False


def log(msg):
    if QUIET:
        return
    print(f"[ort_bench] {msg}", file=sys.stderr, flush=True)


def int_list(s):
    try:
        v = [int(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {s!r}")
    if not v or any(x < 1 for x in v):
        raise argparse.ArgumentTypeError(f"needs positive integers: {s!r}")
    return v


# ---------------------------------------------------------------------------------------------
# Preparation: random model, ONNX export, quantization (these import torch / transformers).


def write_random_bert_base(work, vocab_source):
    """Writes WORK/bert-base-random once (skipped when its model.safetensors exists)."""
    out = os.path.join(work, "bert-base-random")
    weights = os.path.join(out, "model.safetensors")
    if os.path.exists(weights) and os.path.exists(os.path.join(out, "vocab.txt")):
        log(f"random BERT-base already at {out}")
        return out
    if not vocab_source or not os.path.exists(os.path.join(vocab_source, "vocab.txt")):
        sys.exit("ort_bench: --random-bert-base needs --model-dir with a vocab.txt (30522 tokens) to copy")
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(SEED)
    cfg = BertConfig(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2,
                     hidden_act="gelu")
    model = BertModel(cfg).eval()
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    for name in ("vocab.txt", "tokenizer_config.json"):
        src = os.path.join(vocab_source, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out, name))
    n = sum(1 for _ in open(os.path.join(out, "vocab.txt"), encoding="utf-8"))
    if n != cfg.vocab_size:
        log(f"warning: {vocab_source}/vocab.txt has {n} tokens, the random model has {cfg.vocab_size}")
    log(f"wrote random BERT-base (seed {SEED}) to {out}")
    return out


def cache_stem(model_dir, work):
    """File stem in WORK for this model folder; changes when its weights file changes."""
    weights = os.path.join(model_dir, "model.safetensors")
    st = os.stat(weights)
    key = f"{os.path.realpath(model_dir)}|{st.st_size}|{st.st_mtime_ns}"
    name = os.path.basename(os.path.normpath(model_dir)) or "model"
    return os.path.join(work, f"ort-{name}-{hashlib.sha1(key.encode()).hexdigest()[:10]}")


def export_onnx(model_dir, path):
    if os.path.exists(path):
        log(f"ONNX export cached: {path}")
        return
    import torch
    from transformers import BertModel

    log(f"exporting {model_dir} to {path}")
    try:  # eager attention traces to plain MatMul/Softmax, which the quantizer handles
        model = BertModel.from_pretrained(model_dir, attn_implementation="eager")
    except (TypeError, ValueError):
        model = BertModel.from_pretrained(model_dir)
    model.eval()
    ids = torch.full((1, 16), 1000, dtype=torch.long)
    ids[0, 0], ids[0, -1] = 101, 102
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)

    class Wrapper(torch.nn.Module):  # positional inputs in this order, one output
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids, return_dict=False)[0]

    axes = {0: "batch", 1: "sequence"}
    kwargs = dict(input_names=["input_ids", "attention_mask", "token_type_ids"],
                  output_names=["last_hidden_state"],
                  dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                "last_hidden_state": axes},
                  opset_version=17, do_constant_folding=True)
    tmp = path + ".tmp"
    with torch.no_grad():
        try:  # torch >= 2.9 defaults to the dynamo exporter (needs onnxscript); dynamic_axes is the TorchScript one's
            torch.onnx.export(Wrapper(model), (ids, mask, types), tmp, dynamo=False, **kwargs)
        except TypeError:  # older torch: no dynamo keyword, TorchScript exporter is the default
            torch.onnx.export(Wrapper(model), (ids, mask, types), tmp, **kwargs)
    os.replace(tmp, path)


def quantize(fp32_path, int8_path):
    if os.path.exists(int8_path):
        log(f"int8 model cached: {int8_path}")
        return
    from onnxruntime.quantization import QuantType, quantize_dynamic

    log(f"quantizing to {int8_path}")
    tmp = int8_path + ".tmp.onnx"
    quantize_dynamic(fp32_path, tmp, weight_type=QuantType.QInt8, per_channel=True)
    os.replace(tmp, int8_path)


def token_ids(model_dir):
    """(cls, sep, the) ids from vocab.txt; 101, 102, 1996 in the uncased BERT vocabulary."""
    index = {}
    with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            index.setdefault(line.rstrip("\r\n"), i)
    cls_id, sep_id = index.get("[CLS]", 101), index.get("[SEP]", 102)
    word = index.get("the", index.get("[UNK]", 100))
    return cls_id, sep_id, word


# ---------------------------------------------------------------------------------------------
# Timing (child process: onnxruntime and numpy only).


def peak_rss_bytes():
    """Peak RSS of this process: VmHWM from /proc/self/status, the figure `edgebert bench` reports.

    resource.getrusage(RUSAGE_SELF).ru_maxrss is the fallback only: Linux carries ru_maxrss
    across execve, so in the child it would still hold the parent's peak with torch loaded
    (about 1.2 GB here), while VmHWM belongs to the new address space.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru if sys.platform == "darwin" else ru * 1024  # bytes on macOS, KiB on Linux


def bench_one(onnx_path, seq, threads, runs, warmup, cls_id, sep_id, word_id):
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])

    ids = np.full((1, seq), word_id, dtype=np.int64)
    ids[0, 0], ids[0, -1] = cls_id, sep_id
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    names = {i.name for i in sess.get_inputs()}  # an exporter may drop an unused input
    feeds = {k: v for k, v in feeds.items() if k in names}
    out_name = ["last_hidden_state"] if "last_hidden_state" in {o.name for o in sess.get_outputs()} else None

    for _ in range(warmup):
        sess.run(out_name, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(out_name, feeds)
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    # Same order statistics as `edgebert bench`.
    median = times[len(times) // 2]
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    peak = peak_rss_bytes()
    engine = "onnxruntime-fp32" if onnx_path.endswith("-fp32.onnx") else "onnxruntime-int8"
    return {"engine": engine, "seq": seq, "threads": threads,
            "median_ms": round(median, 4), "p90_ms": round(p90, 4), "peak_rss_bytes": peak}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", help="Hugging Face BERT folder (with --random-bert-base: where vocab.txt comes from)")
    p.add_argument("--work", default=DEFAULT_WORK, help="cache dir for ONNX files and the random model (default Benchmarks/out)")
    p.add_argument("--seq", type=int_list, default=[16, 128, 256], help="tokens per text, [CLS]/[SEP] included (default 16,128,256)")
    p.add_argument("--threads", type=int_list, default=[1, 2], help="intra-op threads (default 1,2)")
    p.add_argument("--runs", type=int, default=50, help="timed runs (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    p.add_argument("--random-bert-base", action="store_true", help="benchmark a random-weight BERT-base written to WORK/bert-base-random")
    p.add_argument("--prepare-only", action="store_true", help="write/export/quantize, print the model folder, time nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--in-process", action="store_true", help="time in this process (peak RSS then includes torch)")
    p.add_argument("--float", action="store_true", help="time the fp32 graph instead of the int8 one (the peer of `quantize --dtype f32`)")
    p.add_argument("--_child", nargs=7, metavar=("ONNX", "SEQ", "THREADS", "RUNS", "WARMUP", "CLS_SEP", "WORD"),
                   help=argparse.SUPPRESS)
    a = p.parse_args()
    global QUIET
    QUIET = a.quiet

    if a._child:
        onnx_path, seq, threads, runs, warmup, cls_sep, word = a._child
        cls_id, sep_id = (int(x) for x in cls_sep.split(","))
        print(json.dumps(bench_one(onnx_path, int(seq), int(threads), int(runs), int(warmup),
                                   cls_id, sep_id, int(word))), flush=True)
        return

    if a.runs < 1 or a.warmup < 0:
        p.error("--runs must be >= 1 and --warmup >= 0")
    os.makedirs(a.work, exist_ok=True)
    if a.random_bert_base:
        model_dir = write_random_bert_base(a.work, a.model_dir)
    else:
        if not a.model_dir:
            p.error("--model-dir is required")
        model_dir = a.model_dir
    for name in ("config.json", "vocab.txt", "model.safetensors"):
        if not os.path.exists(os.path.join(model_dir, name)):
            sys.exit(f"ort_bench: {model_dir} has no {name}")

    stem = cache_stem(model_dir, a.work)
    fp32, int8 = stem + "-fp32.onnx", stem + "-int8.onnx"
    export_onnx(model_dir, fp32)
    quantize(fp32, int8)
    if a.prepare_only:
        print(os.path.abspath(model_dir))
        return

    cls_id, sep_id, word_id = token_ids(model_dir)
    timed = fp32 if a.float else int8
    for seq in a.seq:
        if seq < 3:
            sys.exit(f"ort_bench: --seq {seq}: needs at least 3 tokens ([CLS] x [SEP])")
        for t in a.threads:
            if a.in_process:
                print(json.dumps(bench_one(timed, seq, t, a.runs, a.warmup, cls_id, sep_id, word_id)), flush=True)
                continue
            cmd = [sys.executable, os.path.abspath(__file__), "--_child", timed, str(seq), str(t),
                   str(a.runs), str(a.warmup), f"{cls_id},{sep_id}", str(word_id)]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit(f"ort_bench: timing seq {seq}, threads {t} failed (exit {r.returncode})")
            sys.stdout.write(r.stdout.strip().splitlines()[-1] + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
