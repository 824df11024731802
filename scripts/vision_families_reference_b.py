"""Parity references for the MobileNetV4 and DINOv2 runners, computed once with timm.

    python scripts/vision_families_reference_b.py [--cache DIR]

Needs torch, timm, numpy and safetensors (torch 2.15 and timm 1.0.31 were used; timm in a
venv of its own that sees torch: `pip install --no-deps timm torchvision==0.29.2 pyyaml
huggingface_hub safetensors`, torchvision matching torch 2.15). No pretrained weights: both models are
random-initialised (seeded) in timm, with every parameter and batch-norm statistic drawn at
a scale that keeps activations near unit size, so each layer matters:

- `mobilenetv4_conv_small` (timm's names are candle-transformers' names as they are), on a
  seeded 2×3×224×224 input: the logits and timm's pre-logits vector (`forward_head(...,
  pre_logits=True)`, 1,280 values: pool, conv_head, norm_head, ReLU);
- `vit_small_patch14_dinov2` (timm's names are Meta's, which candle reads) with a random
  ImageNet linear head `head.weight` [1000, 768] on CLS ‖ mean patch token (Meta's linear
  head, which candle applies), on a seeded 1×3×518×518 input (`x`: candle's position table
  size, no position resampling) and a 1×3×224×224 one (`x224`: the 37×37 table resized to
  16×16 as Meta's `interpolate_pos_encoding` does, bicubic with scale (16 + 0.1) / 37): the
  features (final-normed CLS ‖ mean patch token) and logits, twice: `exact` as timm/Meta define the network (erf GELU, LayerNorm eps 1e-6),
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


def meta_tokens(m, x):
    """timm's blocks with Meta's `interpolate_pos_encoding` (DINOv2's own code, which its
    linear heads were evaluated with): the 37×37 table resized bicubic with
    scale_factor (grid + 0.1) / 37, no antialias; final-normed tokens."""
    import torch.nn.functional as F

    b, _, h, w = x.shape
    t = m.patch_embed.proj(x).flatten(2).transpose(1, 2)
    pos = m.pos_embed
    gh, gw = h // 14, w // 14
    if (gh, gw) != (37, 37):
        d = pos.shape[-1]
        patch = pos[:, 1:].reshape(1, 37, 37, d).permute(0, 3, 1, 2)
        patch = F.interpolate(patch, scale_factor=((gh + 0.1) / 37, (gw + 0.1) / 37),
                              mode="bicubic", antialias=False)
        assert patch.shape[-2:] == (gh, gw)
        pos = torch.cat([pos[:, :1], patch.permute(0, 2, 3, 1).reshape(1, gh * gw, d)], dim=1)
    t = torch.cat([m.cls_token.expand(b, -1, -1), t], dim=1) + pos
    return m.norm(m.blocks(t))


def dinov2_numbers(m, head_w, head_b, x):
    with torch.no_grad():
        t = meta_tokens(m, x)
        if x.shape[-1] == 518:
            assert torch.allclose(t, m.forward_features(x), atol=1e-5)
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
    inputs = {
        "x": torch.randn(1, 3, 518, 518, generator=torch.Generator().manual_seed(5)),
        "x224": torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(6)),
    }
    out = {k: {"input": list(v.shape)} for k, v in inputs.items()}
    for k, x in inputs.items():
        out[k]["exact"] = dinov2_numbers(m, head_w, head_b, x)
    # candle's numerics: tanh GELU, LayerNorm eps 1e-5.
    for mod in m.modules():
        if isinstance(mod, torch.nn.GELU):
            mod.approximate = "tanh"
        if isinstance(mod, torch.nn.LayerNorm):
            mod.eps = 1e-5
    for k, x in inputs.items():
        out[k]["candle_numerics"] = dinov2_numbers(m, head_w, head_b, x)
    sd = dict(m.state_dict())
    sd["head.weight"], sd["head.bias"] = head_w, head_b
    folder = os.path.join(cache, "dinov2_vits14")
    save(folder, sd, inputs["x"])
    save_file({k: v.contiguous() for k, v in inputs.items()}, os.path.join(folder, "input.safetensors"))
    return out


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
