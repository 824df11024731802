#!/usr/bin/env python3
"""Reference outputs of a random-initialised YOLOv8 for frugalbench's Candle port (parity test).

Run by hand, not in CI. Needs torch, safetensors and the `ultralytics` package (plus
torchvision, opencv-python-headless, pillow, psutil, ultralytics-thop, which it imports):

    python3 -m venv /tmp/venv-yolo && /tmp/venv-yolo/bin/pip install ultralytics safetensors
    /tmp/venv-yolo/bin/python scripts/yolov8_reference.py            # tiny fixture (committed)
    /tmp/venv-yolo/bin/python scripts/yolov8_reference.py --scale n --out /tmp/yolov8n-random

The model is built from ultralytics' own `yolov8.yaml` (the architecture of the published
YOLOv8 checkpoints: Conv-BN-SiLU, C2f, SPPF, PAN neck, decoupled DFL head). `--scale tiny` adds a
scale `tiny: [0.33, 0.0625, 512]` (channels 8-32, one bottleneck per C2f, 3 classes, and
`reg_max: 4` DFL bins instead of 16, which shrinks the box branch from 64 to 16 channels) so its
checkpoint (float16, the forward pass runs on the float16-rounded values in float32) is small
enough to commit; `--scale n` / `--scale s` are the real sizes (80 classes).
Weights are random with a fixed seed; the batch-norm statistics and affine parameters are
randomised too (ultralytics initialises them to the identity, which would leave them
untested). The state dict is saved with ultralytics' own tensor names (`model.<i>....`), which
`crates/workloads/src/runners/yolov8.rs` reads directly.

Outputs in --out:
- `yolov8_<scale>.safetensors`: the state dict (float16 for tiny, float32 otherwise);
- `yolov8_<scale>_reference.json`: the input recipe, the raw head outputs (per anchor: 4 x
  reg_max box logits then nc class logits, anchors ordered P3, P4, P5, row-major) and the
  decoded outputs of ultralytics' inference path (cx, cy, w, h in input pixels, then the class
  sigmoids).

The input is computed from a formula both sides evaluate (no tensor file needed):
x[b, c, h, w] = 0.5 + 0.5 * sin(0.37 * (c + 1) * (b + 1) + 0.113 * h + 0.071 * w).
"""

import argparse
import json
import math
import os
import tempfile

import torch
import yaml
from safetensors.torch import save_file


def build(scale: str):
    import ultralytics
    from ultralytics.nn.tasks import DetectionModel

    cfg_path = os.path.join(os.path.dirname(ultralytics.__file__), "cfg/models/v8/yolov8.yaml")
    with open(cfg_path) as f:
        cfg = yaml.safe_load(f)
    if scale == "tiny":
        cfg["scales"] = {"tiny": [0.33, 0.0625, 512]}
        cfg["nc"] = 3
        cfg["reg_max"] = 4
    cfg["scale"] = scale
    with tempfile.NamedTemporaryFile("w", suffix=f"yolov8{scale}.yaml", delete=False) as f:
        yaml.safe_dump(cfg, f)
        path = f.name
    model = DetectionModel(path, ch=3, nc=cfg["nc"], verbose=False)
    os.unlink(path)
    # YOLOv8 as published: SPPF's first conv is activated (YOLO26's is not) and the class branch
    # is Conv-Conv-Conv2d (the `legacy` head, not YOLO11's depthwise one).
    assert isinstance(model.model[9].cv1.act, torch.nn.SiLU), model.model[9].cv1.act
    assert model.model[-1].legacy
    return model


def randomise(model, seed: int, half: bool):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if not p.is_floating_point():
                continue
            if name.endswith("dfl.conv.weight"):
                continue  # fixed arange(reg_max), not a learned weight
            if name.endswith("running_var"):
                p.copy_(0.5 + torch.rand(p.shape, generator=g))
            elif name.endswith("running_mean"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif ".bn.weight" in name:
                p.copy_(0.8 + 0.4 * torch.rand(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / math.sqrt(fan_in)))
            if half:
                p.copy_(p.half().float())  # stored as float16: run on exactly those values


def make_input(b: int, h: int, w: int) -> torch.Tensor:
    bi = torch.arange(b, dtype=torch.float64).view(b, 1, 1, 1)
    ci = torch.arange(3, dtype=torch.float64).view(1, 3, 1, 1)
    hi = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1)
    wi = torch.arange(w, dtype=torch.float64).view(1, 1, 1, w)
    x = 0.5 + 0.5 * torch.sin(0.37 * (ci + 1) * (bi + 1) + 0.113 * hi + 0.071 * wi)
    return x.float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="tiny", choices=["tiny", "n", "s"])
    ap.add_argument("--out", default="crates/workloads/tests/fixtures/yolov8")
    ap.add_argument("--seed", type=int, default=20260312)
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--batch", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    model = build(args.scale)
    randomise(model, args.seed, half=args.scale == "tiny")
    model.eval()
    h = args.height or (32 if args.scale == "tiny" else 320)
    w = args.width or (64 if args.scale == "tiny" else 448)
    x = make_input(args.batch, h, w)
    with torch.no_grad():
        decoded, preds = model(x)
    raw = torch.cat([preds["boxes"], preds["scores"]], dim=1)  # (B, 4*reg_max + nc, A)
    detect = model.model[-1]
    eps = {m.eps for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    os.makedirs(args.out, exist_ok=True)
    dtype = torch.float16 if args.scale == "tiny" else torch.float32
    sd = {k: v.to(dtype).contiguous() for k, v in model.state_dict().items() if v.is_floating_point()}
    save_file(sd, os.path.join(args.out, f"yolov8_{args.scale}.safetensors"))
    rnd = lambda t: [float(f"{v:.7g}") for v in t.flatten().tolist()]  # noqa: E731
    ref = {
        "generator": "scripts/yolov8_reference.py",
        "ultralytics": __import__("ultralytics").__version__,
        "torch": torch.__version__,
        "scale": args.scale,
        "seed": args.seed,
        "nc": int(detect.nc),
        "reg_max": int(detect.reg_max),
        "bn_eps": sorted(eps),
        "input": {"batch": args.batch, "height": h, "width": w,
                  "formula": "0.5 + 0.5*sin(0.37*(c+1)*(b+1) + 0.113*h + 0.071*w)"},
        "raw_shape": list(raw.shape),
        "raw": rnd(raw),
        "decoded_shape": list(decoded.shape),
        "decoded": rnd(decoded),
        "parameters": int(sum(v.numel() for v in sd.values())),
    }
    with open(os.path.join(args.out, f"yolov8_{args.scale}_reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"{args.scale}: {ref['parameters']} parameters, raw {list(raw.shape)}, "
          f"decoded {list(decoded.shape)}, bn eps {sorted(eps)}")


if __name__ == "__main__":
    main()
