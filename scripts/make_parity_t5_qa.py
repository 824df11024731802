#!/usr/bin/env python3
"""Write the tiny random checkpoints and reference outputs that prove frugalbench's
summarization (T5) and extractive question-answering (BERT, DistilBERT) runners against
Hugging Face transformers.

Run by hand, in a virtual environment with the CPU wheels from the Python package index:

    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch transformers safetensors tokenizers
    /tmp/venv/bin/python scripts/make_parity_t5_qa.py

It writes, under crates/workloads/tests/fixtures/parity/:

    t5/          config.json, model.safetensors, tokenizer.json   (flan-t5 style: gated-gelu,
                 untied lm_head; d_model 32, 2+2 layers, 4 heads; Unigram vocab trained here)
    bert-qa/     config.json, model.safetensors, tokenizer.json   (BertForQuestionAnswering,
                 hidden 32, 2 layers; WordPiece vocab trained here)
    distilbert-qa/  the same for DistilBertForQuestionAnswering
    reference.json  the inputs' token ids and the reference outputs (see below)

Everything is random-initialised from a config with a fixed seed: the numbers mean nothing, but
Candle must reproduce them. Reference outputs:

- T5: encoder output and first-step decoder logits for a fixed input, and the greedy output ids
  (`generate(max_new_tokens=N, do_sample=False, num_beams=1)`, checked against a hand-written
  greedy loop) for two inputs.
- QA: start/end logits, and the best span (start <= end, inside the context segment, at most
  MAX_ANSWER_TOKENS tokens, maximising start + end logit; first best on ties) with its answer
  text cut from the context through the tokenizer's offsets, for two (question, context) pairs.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertForQuestionAnswering,
    DistilBertConfig,
    DistilBertForQuestionAnswering,
    T5Config,
    T5ForConditionalGeneration,
)

SEED = 1234
T5_SEED = 7
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "workloads" / "tests" / "fixtures" / "parity"
MAX_NEW_TOKENS = 20
MAX_ANSWER_TOKENS = 30
MAX_SEQ_LEN = 64

CORPUS = [
    "The city council approved a new plan to add cycle lanes on the main roads next spring.",
    "Heavy rain flooded several streets in the old town on Monday night.",
    "The museum will open a new wing for modern art in the autumn.",
    "Scientists measured the energy used by small language models on ordinary laptops.",
    "The bakery on the corner sells fresh bread every morning from seven o'clock.",
    "A summary is a short text that keeps the main points of a longer document.",
    "Who approved the plan? What flooded the streets? When will the wing open?",
    "The team won the final match after a penalty shoot-out in front of a full stadium.",
    "Solar panels on the school roof now provide most of its electricity in summer.",
    "The river rose by two metres, and the bridge was closed for three days.",
    "summarize: question: context: answer the question using the context.",
]

T5_INPUTS = [
    "summarize: Heavy rain flooded several streets in the old town on Monday night.",
    "summarize: The museum will open a new wing for modern art in the autumn, and the city "
    "council approved a plan to add cycle lanes.",
]

QA_PAIRS = [
    ("What flooded the streets?", "Heavy rain flooded several streets in the old town on Monday night."),
    (
        "When will the wing open?",
        "The museum will open a new wing for modern art in the autumn. The bakery sells fresh bread.",
    ),
]


def t5_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Replace("  ", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=160, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return tok


def bert_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(vocab_size=150, special_tokens=specials)
    tok.train_from_iterator(CORPUS, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return tok


def save_model(
    model: torch.nn.Module, config, tok: Tokenizer, folder: Path, skip=(), config_patch=None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        k: v.detach().contiguous().clone() for k, v in model.state_dict().items() if k not in skip
    }
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config_json = json.loads(config.to_json_string())
    config_json.update(config_patch or {})
    config_json = {k: v for k, v in config_json.items() if v is not None or k == "classifier_dropout"}
    (folder / "config.json").write_text(json.dumps(config_json, indent=2, sort_keys=True) + "\n")
    tok.save(str(folder / "tokenizer.json"))


def flat(t: torch.Tensor) -> list[float]:
    # 8 significant digits: far below the 1e-4 tolerance, and half the file size.
    return [float(f"{x:.8g}") for x in t.detach().reshape(-1).tolist()]


def t5_reference() -> dict:
    tok = t5_tokenizer()
    config = T5Config(
        vocab_size=tok.get_vocab_size(),
        d_model=32,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        # The defaults (32 buckets, max distance 128): 20 new tokens reach decoder distances
        # past 16, where the decoder's unidirectional buckets turn logarithmic.
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        dropout_rate=0.0,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        # Larger random weights (and this seed) make the greedy output vary from step to
        # step instead of repeating one token, so the KV cache and positions are exercised.
        initializer_factor=2.0,
    )
    torch.manual_seed(T5_SEED)
    model = T5ForConditionalGeneration(config).eval()
    # A tiny random decoder tends to repeat the start token (the pad id) for ever; a head
    # whose pad row is zero and whose other rows are larger makes greedy output varied text.
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, 4.0)
        model.lm_head.weight[config.pad_token_id].zero_()
        # Same choices, smaller logits (an argmax does not see a positive scale).
        model.lm_head.weight.mul_(0.0625)
    # The encoder's and decoder's `embed_tokens` are the tied `shared` table: saved once.
    # transformers 5 always ties `lm_head` to `shared` and records `tie_word_embeddings: false`
    # as `scale_decoder_outputs: false`. The file is written as flan-t5's own config.json says
    # it (older transformers): `tie_word_embeddings: false`, a separate `lm_head.weight` (here
    # equal to `shared.weight`), no rescaling of the decoder output before the head.
    assert not config.scale_decoder_outputs
    save_model(
        model,
        config,
        tok,
        OUT / "t5",
        skip=("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"),
        config_patch={"tie_word_embeddings": False, "scale_decoder_outputs": None},
    )

    cases = []
    with torch.no_grad():
        for n, text in enumerate(T5_INPUTS):
            ids = tok.encode(text).ids
            input_ids = torch.tensor([ids])
            enc = model.encoder(input_ids=input_ids).last_hidden_state
            first = model(
                input_ids=input_ids, decoder_input_ids=torch.tensor([[config.decoder_start_token_id]])
            ).logits[0, -1]
            out = model.generate(
                input_ids, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=1, min_length=0
            )[0].tolist()
            generated = out[1:]
            # A hand-written greedy loop (full recompute, stop after EOS) must agree.
            dec = [config.decoder_start_token_id]
            margins = []
            for _ in range(MAX_NEW_TOKENS):
                logits = model(input_ids=input_ids, decoder_input_ids=torch.tensor([dec])).logits[0, -1]
                top = torch.topk(logits, 2)
                margins.append(float(top.values[0] - top.values[1]))
                dec.append(int(top.indices[0]))
                if dec[-1] == config.eos_token_id:
                    break
            assert dec[1:] == generated, (dec, generated)
            cases.append(
                {
                    "text": text,
                    "input_ids": ids,
                    # The first case's encoder output only, to keep the file small.
                    "encoder_output": flat(enc[0]) if n == 0 else None,
                    "encoder_shape": list(enc[0].shape),
                    "first_logits": flat(first),
                    "generated_ids": generated,
                    "generated_text": tok.decode([i for i in generated if i not in (0, 1)]),
                    "min_greedy_margin": min(margins),
                }
            )
    return {"max_new_tokens": MAX_NEW_TOKENS, "cases": cases}


def best_span(start: list[float], end: list[float], seq_ids: list, max_len: int) -> tuple[int, int]:
    best, best_score = None, float("-inf")
    for i in range(len(start)):
        if seq_ids[i] != 1:
            continue
        for j in range(i, min(len(end), i + max_len)):
            if seq_ids[j] != 1:
                break
            score = start[i] + end[j]
            if score > best_score:
                best, best_score = (i, j), score
    assert best is not None
    return best


def qa_reference(kind: str, tok: Tokenizer) -> dict:
    torch.manual_seed(SEED + (1 if kind == "bert" else 2))
    if kind == "bert":
        config = BertConfig(
            vocab_size=tok.get_vocab_size(),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=32,
            max_position_embeddings=MAX_SEQ_LEN,
            type_vocab_size=2,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
            num_labels=2,
        )
        model = BertForQuestionAnswering(config).eval()
    else:
        config = DistilBertConfig(
            vocab_size=tok.get_vocab_size(),
            dim=32,
            n_layers=2,
            n_heads=4,
            hidden_dim=32,
            max_position_embeddings=MAX_SEQ_LEN,
            dropout=0.0,
            attention_dropout=0.0,
            qa_dropout=0.0,
            num_labels=2,
        )
        model = DistilBertForQuestionAnswering(config).eval()
    # A larger head spreads the logits so the best span wins by a clear margin.
    with torch.no_grad():
        model.qa_outputs.weight.mul_(20.0)
    save_model(model, config, tok, OUT / f"{kind}-qa")

    cases = []
    with torch.no_grad():
        for question, context in QA_PAIRS:
            enc = tok.encode(question, context)
            kwargs = {
                "input_ids": torch.tensor([enc.ids]),
                "attention_mask": torch.tensor([enc.attention_mask]),
            }
            if kind == "bert":
                kwargs["token_type_ids"] = torch.tensor([enc.type_ids])
            out = model(**kwargs)
            start, end = flat(out.start_logits[0]), flat(out.end_logits[0])
            i, j = best_span(start, end, enc.sequence_ids, MAX_ANSWER_TOKENS)
            answer = context[enc.offsets[i][0] : enc.offsets[j][1]]
            cases.append(
                {
                    "question": question,
                    "context": context,
                    "input_ids": enc.ids,
                    "start_logits": start,
                    "end_logits": end,
                    "span": [i, j],
                    "answer": answer,
                }
            )
    return {"max_answer_tokens": MAX_ANSWER_TOKENS, "cases": cases}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # One WordPiece vocab for both QA models (the trainer is not byte-for-byte reproducible
    # across runs, so re-running the script rewrites every fixture and reference together).
    wordpiece = bert_tokenizer()
    reference = {
        "generated_by": "scripts/make_parity_t5_qa.py",
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "tokenizers": __import__("tokenizers").__version__,
        "t5": t5_reference(),
        "bert_qa": qa_reference("bert", wordpiece),
        "distilbert_qa": qa_reference("distilbert", wordpiece),
    }
    (OUT / "reference.json").write_text(json.dumps(reference) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
