#!/usr/bin/env bash
# EfficientNet-Lite0 on the builtin photos at batch 1 and 32 (BATCHES): frugalbench vs PyTorch
# on the same weights, pictures and THREADS (default 2), interleaved; one line per batch size:
#   frugalbench X images/s vs PyTorch Y images/s: ratio R
# See scripts/bench-vs-reference.sh (mode pytorch-images).
exec "$(dirname "$0")/bench-vs-reference.sh" pytorch-images "$@"
