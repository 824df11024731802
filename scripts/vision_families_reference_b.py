"""Parity references for the MobileNetV4 and DINOv2 runners, computed once with timm.

    python scripts/vision_families_reference_b.py [--cache DIR]

Needs torch, timm, numpy and safetensors (torch 2.15 and timm 1.0.31 were used; timm in a
venv of its own: `pip install --no-deps timm`). No pretrained weights: both models are
random-initialised (seeded) in timm, with every parameter and batch-norm statistic drawn at
a scale that keeps activations near unit size, so each layer matters:

- `mobilenetv4_conv_small` (timm's names are candle-transformers' names as they are), on a
  seeded 2×3×224×224 input: the logits and timm's pre-logits vector (`forward_head(...,
  pre_logits=True)`, 1,280 values: pool, conv_head, norm_head, ReLU);
- `vit_small_patch14_dinov2` (timm's names are Meta's, which candle reads) with a random
  ImageNet linear head `head.weight` [1000, 768] on CLS ‖ mean patch token (Meta's linear
  head, which candle applies), on a seeded 1×3×518×518 input (candle's position table size,
  so no position resampling is involved): the features (final-normed CLS ‖ mean patch token)
  and logits, twice: `exact` as timm/Meta define the network (erf GELU, LayerNorm eps 1e-6),
  and `candle_numerics` with candle's two approximations (tanh GELU, LayerNorm eps 1e-5).

Writes the weights and inputs (not committed, ~110 MB) under
~/.cache/frugalbench/parity/vision-b/{mobilenetv4_conv_small,dinov2_vits14}/ and the
reference numbers (the first 16 logits and features of each row: small) to
crates/workloads/tests/fixtures/vision_families_b.json; the Rust test
`mobilenetv4_and_dinov2_match_timm_on_random_weights` (tests/image_families_b.rs) compares.
"""
import argparse
import json
import os

import torch
import timm
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
KEEP = 16


def randomise(model, seed):
    """Draw every parameter and buffer: weights uniform in ±sqrt(3 / fan_in), norm scales in
    [0.5, 1.5], biases and means in ±0.2, variances in [0.5, 1.5], layer scales in [0.1, 0.5]."""
    g = torch.Generator().manual_seed(seed)

    def u(shape, lo, hi):
        return torch.rand(shape, generator=g) * (hi - lo) + lo

    with torch.no_grad():
        for name, p in list(model.named_parameters()) + list(model.named_buffers()):
            if p.dtype not in (torch.float32,):
                continue
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "gamma":
                p.copy_(u(p.shape, 0.1, 0.5))
            elif leaf == "running_var":
                p.copy_(u(p.shape, 0.5, 1.5))
            elif leaf in ("running_mean", "bias"):
                p.copy_(u(p.shape, -0.2, 0.2))
            elif p.dim() == 1:  # norm scales
                p.copy_(u(p.shape, 0.5, 1.5))
            elif name in ("cls_token", "pos_embed", "reg_token"):
                p.copy_(u(p.shape, -0.5, 0.5))
            else:
                fan_in = p[0].numel()
                s = (3.0 / fan_in) ** 0.5
                p.copy_(u(p.shape, -s, s))


def head_rows(t):
    return [[round(float(v), 7) for v in row[:KEEP]] for row in t]


def save(folder, tensors, x):
    os.makedirs(folder, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(folder, "model.safetensors"))
    save_file({"x": x.contiguous()}, os.path.join(folder, "input.safetensors"))


def mobilenetv4(cache):
    torch.manual_seed(0)
    m = timm.create_model("mobilenetv4_conv_small", pretrained=False).eval()
    randomise(m, 1)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        f = m.forward_head(m.forward_features(x), pre_logits=True)
        logits = m(x)
    sd = {k: v for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
    save(os.path.join(cache, "mobilenetv4_conv_small"), sd, x)
    return {"logits": head_rows(logits), "features": head_rows(f), "input": [2, 3, 224, 224]}


def dinov2_numbers(m, head_w, head_b, x):
    with torch.no_grad():
        t = m.forward_features(x)  # final-normed tokens
        f = torch.cat([t[:, 0], t[:, 1:].mean(1)], dim=-1)
        logits = f @ head_w.T + head_b
    return {"logits": head_rows(logits), "features": head_rows(f)}


def dinov2(cache):
    torch.manual_seed(0)
    m = timm.create_model("vit_small_patch14_dinov2", pretrained=False, num_classes=0).eval()
    randomise(m, 3)
    g = torch.Generator().manual_seed(4)
    s = (3.0 / 768) ** 0.5
    head_w = torch.rand(1000, 768, generator=g) * 2 * s - s
    head_b = torch.rand(1000, generator=g) * 0.4 - 0.2
    x = torch.randn(1, 3, 518, 518, generator=torch.Generator().manual_seed(5))
    exact = dinov2_numbers(m, head_w, head_b, x)
    # candle's numerics: tanh GELU, LayerNorm eps 1e-5.
    for mod in m.modules():
        if isinstance(mod, torch.nn.GELU):
            mod.approximate = "tanh"
        if isinstance(mod, torch.nn.LayerNorm):
            mod.eps = 1e-5
    candle = dinov2_numbers(m, head_w, head_b, x)
    sd = dict(m.state_dict())
    sd["head.weight"], sd["head.bias"] = head_w, head_b
    save(os.path.join(cache, "dinov2_vits14"), sd, x)
    return {"exact": exact, "candle_numerics": candle, "input": [1, 3, 518, 518]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/frugalbench/parity/vision-b"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    out = {
        "source": f"timm {timm.__version__}, torch {torch.__version__}; random-initialised models "
                  "(scripts/vision_families_reference_b.py); first 16 values of each row",
        "mobilenetv4_conv_small": mobilenetv4(a.cache),
        "dinov2_vits14": dinov2(a.cache),
    }
    path = os.path.join(ROOT, "crates/workloads/tests/fixtures/vision_families_b.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
