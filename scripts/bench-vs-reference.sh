#!/usr/bin/env bash
# frugalbench against its reference library, on the same model file, inputs and threads,
# interleaved (reference, frugalbench, reference), one line at the end:
#
#   frugalbench X/s vs REF Y/s: ratio R        (Y = mean of the two reference runs)
#
# Modes (called through scripts/bench-vs-llamacpp.sh and scripts/bench-vs-pytorch.sh):
#   llamacpp   SmolLM2-135M-Instruct Q4_1 (the default suite's GGUF): greedy, NEW_TOKENS new
#              tokens, every query evaluating its whole prompt (llama.cpp: `reset()` before
#              each query, no prefix reuse), prompts = the default generation set's rows as
#              frugalbench tokenizes them (token ids handed to llama.cpp). Queries/s.
#   pytorch    all-MiniLM-L6-v2 sentence pairs (the default similarity set), BATCH pairs per
#              query, sentence-transformers with torch.set_num_threads(THREADS). Pairs/s.
#   pytorch-images
#              EfficientNet-Lite0 (the default suite's weights: the pip mirror's legacy .pth,
#              which PyTorch loads as it is) on the builtin photos, at each batch size of
#              BATCHES (default "1 32"): each query preprocesses its pictures (decoded
#              beforehand) and runs the network and top-5; PyTorch runs
#              scripts/efficientnet_lite0_reference.py's network and preprocessing. Images/s,
#              one result line per batch size.
#
# References are installed on first use in venvs under ${FRUGALBENCH_CACHE:-~/.cache/frugalbench}/bench/:
#   venv-llamacpp  llama-cpp-python built from source with native CPU flags
#                  (CMAKE_ARGS="-DGGML_NATIVE=ON", pip --no-binary)
#   venv-pytorch   torch (CPU) + sentence-transformers (pytorch-images uses its torch and Pillow)
# (pip from your configured index; set PIP_EXTRA_ARGS to pass more arguments to pip).
# The models come from frugalbench's own offline sources (hf-hub cache or unpacked pip
# mirror): run `cargo run --release -- run` once first, or see README.
#
# Environment: THREADS (default 2), QUERIES (timed queries per run; default 30 for
# llamacpp, 20 for pytorch; pytorch-images: IMAGES / batch, IMAGES default 192), WARMUP
# (default 3), NEW_TOKENS (default 10), BATCH (default 32), BATCHES (default "1 32").
# The timing counts only the model work: frugalbench's `bench_model` example times the
# runner's `run_batch` (what a metered run measures), the reference script times its calls.
# Not run in CI (minutes, and it installs packages).
set -euo pipefail

mode=${1:?usage: bench-vs-reference.sh llamacpp|pytorch|pytorch-images}
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${FRUGALBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/frugalbench}
bench=$cache/bench
mkdir -p "$bench"
threads=${THREADS:-2}
warmup=${WARMUP:-3}
target=${CARGO_TARGET_DIR:-$here/target}
export RAYON_NUM_THREADS=$threads CANDLE_NUM_THREADS=$threads OMP_NUM_THREADS=$threads

echo "building frugalbench's bench_model example..." >&2
(cd "$here" && cargo build --release -q -p frugalbench-workloads --example bench_model)
ours=$target/release/examples/bench_model

venv() { # venv NAME: create it if missing, print its python
    local v=$bench/$1
    if [ ! -x "$v/bin/python" ]; then
        python3 -m venv "$v" >&2
        "$v/bin/python" -m pip install -q --upgrade pip ${PIP_EXTRA_ARGS:-} >&2
    fi
    echo "$v/bin/python"
}

rate() { sed -n 's/^\(frugalbench\|REF\) \([0-9.]*\) .*/\2/p' | tail -1; }

case $mode in
llamacpp)
    py=$(venv venv-llamacpp)
    if ! "$py" -c 'import llama_cpp' 2>/dev/null; then
        echo "building llama-cpp-python from source with native flags (several minutes)..." >&2
        CMAKE_ARGS="-DGGML_NATIVE=ON" FORCE_CMAKE=1 "$py" -m pip install --no-binary llama-cpp-python \
            --no-cache-dir ${PIP_EXTRA_ARGS:-} llama-cpp-python >&2
    fi
    model=smollm2-135m-instruct-q4_1
    queries=${QUERIES:-30}
    inputs=$bench/prompts-$model.jsonl
    ours_args=(--model "$model" --task text-generation --queries "$queries" --warmup "$warmup"
        --max-new-tokens "${NEW_TOKENS:-10}")
    # Resolve the GGUF the way a run does, and dump the prompts' token ids.
    gguf=$("$ours" "${ours_args[@]}" --queries 1 --warmup 0 --dump-inputs "$inputs" --print-files \
        | sed -n 's/^file //p' | grep '\.gguf$' | head -1)
    [ -n "$gguf" ] || { echo "no GGUF for $model (run \`cargo run --release -- run\` once)" >&2; exit 1; }
    ref() { "$py" "$here/scripts/bench_reference.py" llamacpp --inputs "$inputs" --gguf "$gguf" \
        --threads "$threads" --queries "$queries" --warmup "$warmup" --new-tokens "${NEW_TOKENS:-10}"; }
    us() { "$ours" "${ours_args[@]}" --gguf "$gguf"; }
    name="llama.cpp"; unit="queries"
    ;;
pytorch)
    py=$(venv venv-pytorch)
    if ! "$py" -c 'import sentence_transformers' 2>/dev/null; then
        echo "installing torch (CPU) and sentence-transformers..." >&2
        "$py" -m pip install -q ${PIP_EXTRA_ARGS:-} torch sentence-transformers >&2
    fi
    model=all-minilm-l6-v2
    queries=${QUERIES:-20}
    batch=${BATCH:-32}
    inputs=$bench/pairs-$model.json
    ours_args=(--model "$model" --task sentence-similarity --queries "$queries" --warmup "$warmup"
        --batch-size "$batch")
    dir=$("$ours" "${ours_args[@]}" --queries 1 --warmup 0 --dump-inputs "$inputs" --print-files \
        | sed -n 's/^file //p' | grep 'model.safetensors$' | head -1 | xargs dirname)
    ref() { "$py" "$here/scripts/bench_reference.py" pytorch --inputs "$inputs" --model-dir "$dir" \
        --threads "$threads" --queries "$queries" --warmup "$warmup" --batch-size "$batch"; }
    us() { "$ours" "${ours_args[@]}"; }
    name="PyTorch"; unit="pairs"
    ;;
pytorch-images)
    py=$(venv venv-pytorch)
    if ! "$py" -c 'import torch, PIL, numpy' 2>/dev/null; then
        echo "installing torch (CPU), Pillow and numpy..." >&2
        "$py" -m pip install -q ${PIP_EXTRA_ARGS:-} torch pillow numpy >&2
    fi
    model=efficientnet-lite0
    inputs=$bench/pictures-image-classification.json
    pth=$("$ours" --model "$model" --task image-classification --queries 1 --warmup 0 \
        --dump-inputs "$inputs" --print-files | sed -n 's/^file //p' | grep '\.pth$' | head -1)
    [ -n "$pth" ] || { echo "no .pth for $model (run \`cargo run --release -- run\` once)" >&2; exit 1; }
    ref() { "$py" "$here/scripts/bench_reference.py" images --inputs "$inputs" --pth "$pth" \
        --threads "$threads" --queries "$queries" --warmup "$warmup" --batch-size "$batch"; }
    us() { "$ours" --model "$model" --task image-classification --queries "$queries" \
        --warmup "$warmup" --batch-size "$batch"; }
    name="PyTorch"; unit="images"
    ;;
*) echo "unknown mode $mode (llamacpp|pytorch|pytorch-images)" >&2; exit 2 ;;
esac

# Run a side, echo its output to stderr (kept whole when stderr is a file) and print its rate.
side() { local out; out=$("$@"); echo "$out" >&2; rate <<<"$out"; }

compare() { # interleaved reference, frugalbench, reference; one result line
    local r1 o r2
    r1=$(side ref)
    o=$(side us)
    r2=$(side ref)
    python3 - "$o" "$r1" "$r2" "$name" "$unit" "$threads" "$1" <<'PY'
import sys
o, r1, r2 = map(float, sys.argv[1:4])
ref = (r1 + r2) / 2
extra = f", {sys.argv[7]}" if sys.argv[7] else ""
print(f"frugalbench {o:.2f} {sys.argv[5]}/s vs {sys.argv[4]} {ref:.2f} {sys.argv[5]}/s: ratio {o / ref:.2f}"
      f"  ({sys.argv[6]} threads{extra}; reference runs {r1:.2f} and {r2:.2f})")
PY
}

if [ "$mode" = pytorch-images ]; then
    for batch in ${BATCHES:-1 32}; do
        queries=${QUERIES:-$(( ${IMAGES:-192} / batch > 0 ? ${IMAGES:-192} / batch : 1 ))}
        compare "batch $batch, $queries queries" | tee "$bench/result-images-batch$batch.txt"
    done
else
    compare ""
fi
