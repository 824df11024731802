#!/usr/bin/env python3
"""The reference half of scripts/bench-vs-llamacpp.sh, bench-vs-pytorch.sh and
bench-vs-pytorch-images.sh.

Times the reference library on exactly the inputs frugalbench's `bench_model` example dumped
(`--dump-inputs`), with the same threads, and prints one line per repetition:

    REF <rate> <unit>/s (...)

Modes:
- `llamacpp`: llama-cpp-python on a GGUF. Each query feeds one prompt's token ids (as
  frugalbench tokenized them) to `Llama.generate` with greedy sampling (`temp=0`, `top_k=1`)
  after `reset()`, so the whole prompt is evaluated every time (no prefix reuse, as frugalbench
  does), and takes `--new-tokens` tokens. Rows are taken in order, cycling, as frugalbench does.
- `pytorch`: sentence-transformers on a sentence-transformers model folder, with
  `torch.set_num_threads(--threads)`. Each query encodes `--batch-size` sentence pairs (one
  `encode` call over the 2 × batch sentences, normalised embeddings) and takes their cosines.
- `images`: EfficientNet-Lite0 in PyTorch on the legacy .pth frugalbench reads, with
  `torch.set_num_threads(--threads)`: each query preprocesses `--batch-size` decoded pictures
  (in order, cycling) and runs the network and top-5 (see `images` below).

Run by hand or by the shell scripts; not in CI.
"""

import argparse
import json
import time


def llamacpp(args):
    from llama_cpp import Llama

    prompts = [json.loads(line) for line in open(args.inputs) if line.strip()]
    llm = Llama(
        model_path=args.gguf,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        n_ctx=args.n_ctx,
        n_batch=args.n_ctx,
        verbose=False,
    )
    order = [(q % len(prompts)) for q in range(args.warmup + args.queries)]

    phase = {"prefill": 0.0, "decode": 0.0}

    def query(ids):
        llm.reset()
        out = []
        t0 = time.perf_counter()
        for tok in llm.generate(ids, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0):
            out.append(tok)
            if len(out) == 1:
                t1 = time.perf_counter()
            if len(out) == args.new_tokens:
                break
        t2 = time.perf_counter()
        phase["prefill"] += t1 - t0
        phase["decode"] += t2 - t1
        return out

    for i in order[: args.warmup]:
        query(prompts[i])
    timed = order[args.warmup:]
    outputs = {}
    for _ in range(args.repeat):
        phase["prefill"] = phase["decode"] = 0.0
        t = time.perf_counter()
        for i in timed:
            outputs[i] = query(prompts[i])
        secs = time.perf_counter() - t
        n = len(timed)
        prompt_tokens = sum(len(prompts[i]) for i in timed) / n
        print(
            f"REF {n / secs:.3f} queries/s ({n} queries in {secs:.3f} s; prefill "
            f"{phase['prefill'] * 1e3 / n:.1f} ms/query over {prompt_tokens:.1f} prompt tokens; "
            f"decode {phase['decode'] * 1e3 / (n * max(args.new_tokens - 1, 1)):.2f} ms/token; "
            f"{args.threads} threads)",
            flush=True,
        )
    if args.ids_out:
        with open(args.ids_out, "w") as f:
            for i in sorted(outputs):
                f.write(json.dumps({"row": i, "ids": outputs[i]}) + "\n")


def pytorch(args):
    import torch

    torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer

    texts = json.load(open(args.inputs))
    pairs = [(texts[2 * i], texts[2 * i + 1]) for i in range(len(texts) // 2)]
    model = SentenceTransformer(args.model_dir, device="cpu")
    if args.max_seq_len:
        model.max_seq_length = args.max_seq_len
    b = args.batch_size
    batches = [
        [pairs[(q * b + j) % len(pairs)] for j in range(b)]
        for q in range(args.warmup + args.queries)
    ]

    def query(batch):
        sentences = [s for pair in batch for s in pair]
        with torch.inference_mode():
            emb = model.encode(
                sentences,
                batch_size=len(sentences),
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            return (emb[0::2] * emb[1::2]).sum(-1).tolist()

    for batch in batches[: args.warmup]:
        query(batch)
    timed = batches[args.warmup:]
    for _ in range(args.repeat):
        t = time.perf_counter()
        n = 0
        for batch in timed:
            n += len(query(batch))
        secs = time.perf_counter() - t
        print(
            f"REF {n / secs:.3f} rows/s ({n} rows in {len(timed)} batches of {b} in {secs:.3f} s, "
            f"{args.threads} threads)",
            flush=True,
        )


def images(args):
    """EfficientNet-Lite0 in PyTorch (scripts/efficientnet_lite0_reference.py's network and
    preprocessing) on the pictures frugalbench dumped, decoded before timing as frugalbench
    decodes before metering; each query preprocesses its `--batch-size` pictures and runs the
    forward pass and top-5, as a frugalbench query does."""
    import os
    import sys

    import torch
    from PIL import Image

    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import efficientnet_lite0_reference as ref

    sd = torch.load(args.pth, map_location="cpu", weights_only=True)
    pictures = [Image.open(p).convert("RGB") for p in json.load(open(args.inputs))]
    b = args.batch_size
    batches = [
        [pictures[(q * b + j) % len(pictures)] for j in range(b)]
        for q in range(args.warmup + args.queries)
    ]

    def query(batch):
        x = torch.cat([ref.transform(p) for p in batch])
        with torch.inference_mode():
            return ref.forward(sd, x).topk(5, dim=-1).indices.tolist()

    for batch in batches[: args.warmup]:
        query(batch)
    timed = batches[args.warmup:]
    for _ in range(args.repeat):
        t = time.perf_counter()
        n = 0
        for batch in timed:
            n += len(query(batch))
        secs = time.perf_counter() - t
        print(
            f"REF {n / secs:.3f} images/s ({n} images in {len(timed)} batches of {b} in "
            f"{secs:.3f} s, {args.threads} threads, torch {torch.__version__})",
            flush=True,
        )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("llamacpp", "pytorch", "images"):
        s = sub.add_parser(name)
        s.add_argument("--inputs", required=True, help="the file bench_model --dump-inputs wrote")
        s.add_argument("--threads", type=int, default=2)
        s.add_argument("--queries", type=int, default=20)
        s.add_argument("--warmup", type=int, default=2)
        s.add_argument("--repeat", type=int, default=1)
    s = sub.choices["llamacpp"]
    s.add_argument("--gguf", required=True)
    s.add_argument("--new-tokens", type=int, default=10)
    s.add_argument("--n-ctx", type=int, default=512)
    s.add_argument("--ids-out", help="write each row's generated ids (JSON lines)")
    s = sub.choices["pytorch"]
    s.add_argument("--model-dir", required=True)
    s.add_argument("--batch-size", type=int, default=32)
    s.add_argument("--max-seq-len", type=int, default=256)
    s = sub.choices["images"]
    s.add_argument("--pth", required=True, help="the EfficientNet-Lite0 legacy .pth")
    s.add_argument("--batch-size", type=int, default=1)
    args = p.parse_args()
    {"llamacpp": llamacpp, "pytorch": pytorch, "images": images}[args.mode](args)


if __name__ == "__main__":
    main()
