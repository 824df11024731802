#!/bin/sh
# Measures a reference pool: the default catalogue's models on their tasks, each under several
# settings, so every task has at least 5 reference results (the rating rule's minimum).
#
#   scripts/build-reference-pool.sh VERSION [QUERIES_ENCODER] [QUERIES_GENERATION]
#
# writes reference-pools/VERSION/results/ (result files) and leaves manifest.json to be
# written by hand (version, date, machine, what was run; see reference-pools/README.md).
# Run it on an otherwise idle machine: every figure is the whole machine's. Extra `run` options
# (e.g. --offline) go in $FRUGALBENCH_EXTRA.
set -eu
version=${1:?usage: $0 VERSION [QUERIES_ENCODER] [QUERIES_GENERATION]}
qe=${2:-200}
qg=${3:-100}
out=reference-pools/$version/results
bin=${FRUGALBENCH_BIN:-target/release/frugalbench}
mkdir -p "$out"
run() {
    echo "== $*" >&2
    # shellcheck disable=SC2086 # FRUGALBENCH_EXTRA holds extra options, split on purpose
    "$bin" run --out "$out" --repetitions 3 ${FRUGALBENCH_EXTRA:-} "$@"
}
# Encoders: batch sizes 1..16 (5 settings per task).
for task in sentence-similarity text-classification; do
    for b in 1 2 4 8 16; do
        run --model all-minilm-l6-v2 --task "$task" --batch-size "$b" --queries "$qe"
    done
done
# Text generation: two models × 1 and 2 threads, and a second run of each at 2 threads
# (run-to-run spread), 6 results.
for m in smollm2-135m-instruct-q4_1 gemma3-270m-q4_k_m; do
    for t in 1 2 2; do
        run --model "$m" --task text-generation --threads "$t" --queries "$qg"
    done
done
