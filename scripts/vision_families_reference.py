#!/usr/bin/env python3
"""timm's outputs on frugalbench's seeded ResNet-18 / ConvNeXt-atto / tf_efficientnet_b0
fixtures, for the parity test `logits_and_features_match_timm_on_the_same_weights`
(crates/workloads/tests/vision_families.rs).

Run by hand, not in CI. Needs torch, safetensors, timm (which imports torchvision and pillow):

    python3 -m venv /tmp/venv-vis && /tmp/venv-vis/bin/pip install timm safetensors
    /tmp/venv-vis/bin/python scripts/vision_families_reference.py

1. `cargo test --release -p frugalbench-workloads --test vision_families write_parity_fixtures
   -- --ignored` writes the three checkpoints (random weights from a seeded ChaCha generator,
   timm's parameter names, 16 classes; crates/workloads/src/testing/{resnet,convnext,
   efficientnet}.rs) and the input tensor into the cache (~/.cache/frugalbench/
   vision-families-fixtures; not committed: ResNet-18 alone is 45 MB).
2. Each checkpoint is loaded into `timm.create_model(<arch>, pretrained=False, num_classes=16)`
   with every parameter and buffer required (only BatchNorm's `num_batches_tracked` counters may
   be missing), so the names and shapes are timm's own; the model runs in float64 (eval mode)
   on the fixed input
   x[n, c, y, x] = sin(0.37 (n + 1) + 0.011 (c h w + y w + x)) (1 + 0.5 c), shape (2, 3, 72, 56)
   (the script checks its copy of the formula against the tensor Rust wrote).
3. tests/fixtures/vision_families_reference.json gets, per model: the seed, the logits of the
   two pictures, the width of the pooled features (timm's `forward_head(pre_logits=True)`) and
   their first 32 values, and the timm / torch versions.
"""

import json
import math
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

import timm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates/workloads/tests/fixtures/vision_families_reference.json")
PARITY = [("resnet18", 101), ("convnext_atto", 102), ("tf_efficientnet_b0", 103)]
CLASSES = 16
H, W = 72, 56


def parity_input() -> torch.Tensor:
    x = torch.empty(2, 3, H, W, dtype=torch.float64)
    for n in range(2):
        for c in range(3):
            for y in range(H):
                for xx in range(W):
                    i = c * H * W + y * W + xx
                    x[n, c, y, xx] = math.sin(0.37 * (n + 1) + 0.011 * i) * (1 + 0.5 * c)
    return x


def main() -> None:
    cache = os.path.join(os.path.expanduser("~/.cache/frugalbench"), "vision-families-fixtures")
    os.makedirs(cache, exist_ok=True)
    env = dict(os.environ, FRUGALBENCH_VISION_FIXTURES=cache)
    cmd = ["cargo", "test", "--release", "-p", "frugalbench-workloads", "--test",
           "vision_families", "write_parity_fixtures", "--", "--ignored", "--exact"]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    x = parity_input()
    written = load_file(os.path.join(cache, "input.safetensors"))["x"].double()
    assert torch.allclose(written, x, atol=1e-6), "the input formulas differ"
    torch.set_grad_enabled(False)
    out = {"timm": timm.__version__, "torch": torch.__version__,
           "input": [2, 3, H, W], "classes": CLASSES}
    for arch, seed in PARITY:
        model = timm.create_model(arch, pretrained=False, num_classes=CLASSES)
        state = load_file(os.path.join(cache, arch, "model.safetensors"))
        missing, unexpected = model.load_state_dict(state, strict=False)
        assert not unexpected, f"{arch}: names timm does not have: {unexpected}"
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        assert not missing, f"{arch}: parameters the fixture lacks: {missing}"
        model = model.double().eval()
        logits = model(x)
        feats = model.forward_head(model.forward_features(x), pre_logits=True)
        out[arch] = {
            "seed": seed,
            "logits": logits.tolist(),
            "features_width": feats.shape[1],
            "features_first32": feats[:, :32].tolist(),
        }
        print(f"{arch}: logits[0][:4] {logits[0, :4].tolist()}, features width {feats.shape[1]}",
              file=sys.stderr)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
