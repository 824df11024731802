#!/usr/bin/env bash
# all-MiniLM-L6-v2 sentence pairs at batch $BATCH (default 32): frugalbench vs PyTorch
# (sentence-transformers), interleaved. See scripts/bench-vs-reference.sh.
exec "$(dirname "$0")/bench-vs-reference.sh" pytorch "$@"
