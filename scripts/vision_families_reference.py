#!/usr/bin/env python3
"""timm's outputs on frugalbench's seeded ResNet-18 / ResNet-50 / ConvNeXt-atto / ConvNeXt-tiny /
tf_efficientnet_b0 fixtures, for the parity test `logits_and_features_match_timm_on_the_same_weights`
(crates/workloads/tests/vision_families.rs).

Run by hand, not in CI. Needs torch, safetensors, timm (which imports torchvision and pillow):

    python3 -m venv /tmp/venv-vis && /tmp/venv-vis/bin/pip install timm safetensors
    /tmp/venv-vis/bin/python scripts/vision_families_reference.py

1. `cargo test --release -p frugalbench-workloads --test vision_families write_parity_fixtures
   -- --ignored` writes the five checkpoints (random weights from a seeded ChaCha generator,
   timm's parameter names, 16 classes; crates/workloads/src/testing/{resnet,convnext,
   efficientnet}.rs) and the input tensor into the cache (~/.cache/frugalbench/
   vision-families-fixtures; not committed: ResNet-50 alone is 94 MB).
2. Each checkpoint is loaded into `timm.create_model(<arch>, pretrained=False, num_classes=16)`
   with every parameter and buffer required (only BatchNorm's `num_batches_tracked` counters may
   be missing), so the names and shapes are timm's own; the model runs in float64 (eval mode)
   on the fixed input
   x[n, c, y, x] = sin(0.37 (n + 1) + 0.011 (c h w + y w + x)) (1 + 0.5 c), shape (2, 3, 72, 56)
   (the script checks its copy of the formula against the tensor Rust wrote).
3. tests/fixtures/vision_families_reference.json gets, per model: the seed, the logits of the
   two pictures, the width of the pooled features (timm's `forward_head(pre_logits=True)`) and
   their first 32 values, and the timm / torch versions.
4. Informational (no test reads it): the same B0 weights renamed to torchvision's names
   (the map of crates/workloads/src/runners/efficientnet.rs) in torchvision's
   `efficientnet_b0` (symmetric padding, BatchNorm eps 1e-5), whose logits differ from the tf_
   port's (= candle's computation): `torchvision_b0_vs_tf_max_rel_diff`, max |delta| / max |tf|.
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
PARITY = [("resnet18", 101), ("convnext_atto", 102), ("tf_efficientnet_b0", 103),
          ("resnet50", 104), ("convnext_tiny", 105)]
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


def tf_to_torchvision(state: dict) -> dict:
    """timm's tf_efficientnet names -> torchvision's (as runners/efficientnet.rs does)."""
    expanding = {tuple(k.split(".")[1:3]) for k in state if ".conv_pwl." in k}
    exp = {"conv_pw": "0.0", "bn1": "0.1", "conv_dw": "1.0", "bn2": "1.1",
           "se.conv_reduce": "2.fc1", "se.conv_expand": "2.fc2", "conv_pwl": "3.0", "bn3": "3.1"}
    dws = {"conv_dw": "0.0", "bn1": "0.1", "se.conv_reduce": "1.fc1", "se.conv_expand": "1.fc2",
           "conv_pw": "2.0", "bn2": "2.1"}
    top = {"conv_stem": "features.0.0", "bn1": "features.0.1", "conv_head": "features.8.0",
           "bn2": "features.8.1", "classifier": "classifier.1"}
    out = {}
    for k, v in state.items():
        parts = k.split(".")
        if parts[0] == "blocks":
            s, b, rest = parts[1], parts[2], parts[3:]
            layer = ".".join(rest[:2]) if rest[0] == "se" else rest[0]
            field = rest[-1]
            table = exp if (s, b) in expanding else dws
            out[f"features.{int(s) + 1}.{b}.block.{table[layer]}.{field}"] = v
        else:
            out[f"{top[parts[0]]}.{parts[-1]}"] = v
    return out


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
    import torchvision

    tv = torchvision.models.efficientnet_b0(num_classes=CLASSES)
    state = load_file(os.path.join(cache, "tf_efficientnet_b0", "model.safetensors"))
    missing, unexpected = tv.load_state_dict(tf_to_torchvision(state), strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    tv_logits = tv.double().eval()(x)
    tf_logits = torch.tensor(out["tf_efficientnet_b0"]["logits"], dtype=torch.float64)
    out["torchvision_b0_vs_tf_max_rel_diff"] = float(
        (tv_logits - tf_logits).abs().max() / tf_logits.abs().max())
    print(f"torchvision efficientnet_b0 vs tf port: {out['torchvision_b0_vs_tf_max_rel_diff']:.3g}",
          file=sys.stderr)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
