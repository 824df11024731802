#!/usr/bin/env python3
"""Reference speech probabilities of Silero VAD v6 (16 kHz) for tests/silero_vad.rs.

Runs the `silero-vad` package's own TorchScript model (`silero_vad.jit`,
`audio_forward(clip, 16000)`: 512-sample windows, 64 samples of context, the LSTM state carried
through the clip) on the LibriVox and `cards` utterances of the Debian package
`pocketsphinx-testdata`, and writes every window's probability to
tests/fixtures/silero_vad_reference.json.

The package's `silero_vad_16k.safetensors` (what frugalbench runs) does NOT hold the same
weights as its `silero_vad.jit` / `silero_vad.onnx` (only the STFT basis is equal; the other
tensors differ by up to ~18), so the TorchScript graph is run twice: with the safetensors
weights copied into it (`probabilities`, the parity reference: same weights, the package's own
graph) and with its own shipped weights (`jit_own_weights_mean`, for information: how far the
two weight sets disagree per clip). Run by hand, not in CI:

    python3 -m venv /tmp/venv-vad && /tmp/venv-vad/bin/pip install torch numpy
    /tmp/venv-vad/bin/python scripts/silero_vad_reference.py

The wheel is fetched with `python3 -m pip download --no-deps silero-vad==6.2.3` (or give
--wheel FILE) and imported from a temporary folder, so nothing is installed. The Rust side
loads `silero_vad/data/silero_vad_16k.safetensors` from the same wheel.
"""
import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import wave
import zipfile
from pathlib import Path

import numpy as np
import torch

VERSION = "6.2.3"
ROOT = Path("/usr/share/pocketsphinx/test/data")
CLIPS = [f"librivox/sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880", "0890", "0920", "0930")] + [
    f"cards/00{n}.wav" for n in range(1, 6)
]


def read_wav(path):
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    # The same scaling as the Rust decoder: int16 / 32768.
    return data.astype(np.float32) / 32768.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", help="silero_vad-6.2.3-py3-none-any.whl (downloaded when absent)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "tests/fixtures/silero_vad_reference.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", f"silero-vad=={VERSION}", "-d", tmp], check=True)
            wheel = next(Path(tmp).glob("silero_vad-*.whl"))
        zipfile.ZipFile(wheel).extractall(Path(tmp) / "pkg")
        sys.path.insert(0, str(Path(tmp) / "pkg"))
        from silero_vad import load_silero_vad

        from safetensors.torch import load_file

        shipped = load_silero_vad()
        model = load_silero_vad()
        weights = Path(tmp) / "pkg/silero_vad/data/silero_vad_16k.safetensors"
        weights_sha = hashlib.sha256(weights.read_bytes()).hexdigest()
        # safetensors name -> TorchScript parameter/buffer name.
        names = {"stft_conv.weight": "stft.forward_basis_buffer"}
        for i in range(4):
            names[f"conv{i + 1}.weight"] = f"encoder.{i}.reparam_conv.weight"
            names[f"conv{i + 1}.bias"] = f"encoder.{i}.reparam_conv.bias"
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            names[f"lstm_cell.{k}"] = f"decoder.rnn.{k}"
        names["final_conv.weight"] = "decoder.decoder.2.weight"
        names["final_conv.bias"] = "decoder.decoder.2.bias"
        params = dict(model._model.named_parameters())
        params.update(dict(model._model.named_buffers()))
        state = load_file(str(weights))
        assert sorted(state) == sorted(names), sorted(state)
        differ = {}
        with torch.no_grad():
            for a, b in names.items():
                assert params[b].shape == state[a].shape, (a, b)
                differ[a] = float((params[b] - state[a]).abs().max())
                params[b].copy_(state[a])
        print("max |jit - safetensors| per tensor:", {k: round(v, 3) for k, v in differ.items()})
        clips = []
        for rel in CLIPS:
            path = ROOT / rel
            x = torch.from_numpy(read_wav(path))
            with torch.no_grad():
                probs = model.audio_forward(x, 16000)[0].numpy().astype(np.float64)
                own = shipped.audio_forward(x, 16000)[0].numpy().astype(np.float64)
            clips.append({
                "file": rel,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "samples": int(x.shape[0]),
                "mean": round(float(probs.mean()), 7),
                "jit_own_weights_mean": round(float(own.mean()), 7),
                "probabilities": [round(float(p), 7) for p in probs],
            })
            print(f"{rel}: {len(probs)} windows, mean {probs.mean():.4f} (jit's own weights: {own.mean():.4f})")
    out = {
        "reference": f"silero-vad {VERSION} silero_vad.jit audio_forward(clip, 16000) with the safetensors weights copied in, torch {torch.__version__}, 1 thread",
        "weights": "silero_vad/data/silero_vad_16k.safetensors",
        "max_abs_jit_minus_safetensors": {k: round(v, 4) for k, v in differ.items()},
        "weights_sha256": weights_sha,
        "root": str(ROOT),
        "clips": clips,
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
