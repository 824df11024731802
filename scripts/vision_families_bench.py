"""timm's images/s for ResNet-50, ConvNeXt-atto and tf_efficientnet_b0 on PyTorch, beside
frugalbench's `cargo bench -p frugalbench-workloads --bench vision_families`.

    python scripts/vision_families_bench.py --threads 2

Same shapes as the Rust bench (random weights, 16 classes), six generated 640x480 pictures
decoded once outside the timing, timm's eval transform (shorter side 256, bilinear, centre
crop 224, ImageNet mean/std; Pillow's resize); times the pipeline call as a frugalbench query
does: preprocess the pictures, forward pass, top-5, at batch 1 and 32 (the six pictures
cycled), best of 5 rounds after a warm-up. Run the Rust bench with the same RAYON_NUM_THREADS.
Needs torch, timm (which imports torchvision) and pillow.
"""
import argparse
import time

import numpy as np
import timm
import torch
from PIL import Image
from timm.data import create_transform


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    pictures = [Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
                for _ in range(6)]
    transform = create_transform(input_size=224, crop_pct=0.875, interpolation="bilinear",
                                 is_training=False)
    for arch in ("resnet50", "convnext_atto", "tf_efficientnet_b0"):
        model = timm.create_model(arch, pretrained=False, num_classes=16).eval()
        for batch in (1, 32):
            chosen = [pictures[i % len(pictures)] for i in range(batch)]

            def query():
                x = torch.stack([transform(p) for p in chosen])
                with torch.no_grad():
                    return model(x).topk(5, dim=1)

            query()
            best = float("inf")
            for _ in range(5):
                t = time.perf_counter()
                query()
                best = min(best, time.perf_counter() - t)
            print(f"{arch} torch {torch.__version__} timm {timm.__version__} threads "
                  f"{args.threads} batch {batch}: {batch / best:.1f} images/s "
                  f"({best * 1000:.1f} ms per call)")


if __name__ == "__main__":
    main()
