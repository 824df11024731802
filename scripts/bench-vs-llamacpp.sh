#!/usr/bin/env bash
# SmolLM2-135M-Instruct Q4_1 text generation: frugalbench vs llama.cpp (llama-cpp-python built
# from source, native flags), interleaved. See scripts/bench-vs-reference.sh.
exec "$(dirname "$0")/bench-vs-reference.sh" llamacpp "$@"
