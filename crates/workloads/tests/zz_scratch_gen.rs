use candle_core::Device;
use frugalbench_workloads::datasets::PromptRow;
use frugalbench_workloads::runners::generation::GenerationRunner;
use frugalbench_workloads::testing::llama::*;
use frugalbench_workloads::{NoPhases, RunnerOptions, Runner};

#[test]
fn scratch() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_tiny_llama(dir.path(), TinyLlamaOptions::default()).unwrap();
    eprintln!("vocab {}", t.vocab_size);
    let data = prompt_dataset(vec![PromptRow{prompt: Some("The capital of France is".into()), messages: None}, PromptRow{prompt: Some("12345 3.14159".into()), messages: None}]);
    let o = RunnerOptions { device: Device::Cpu, cache_dir: std::env::temp_dir(), max_new_tokens: 12, temperature: 0.0, seed: 1 };
    for (arch, files) in [("quantized-llama", t.gguf_files(false, false).unwrap()), ("llama", t.hf_files().unwrap())] {
        let e = tiny_entry("x", arch, &t.dir);
        let mut r = GenerationRunner::load(&e, &files, &data, &o).unwrap();
        for i in 0..2 {
            let p = r.prompt(i).unwrap().clone();
            let ids = r.generate_ids(i, &mut NoPhases).unwrap();
            eprintln!("{arch} prompt {:?} -> {:?}; out {:?}", p.text, p.ids, ids);
            eprintln!("  {:?}", r.run_batch(&[i], &mut NoPhases).unwrap()[0].prediction);
        }
    }
    let tok = t.reference_tokenizer().unwrap();
    for s in ["12345 3.14159", "naïve café 東京 🙂", "don't I'll"] {
        let e = tok.encode(s, false).unwrap();
        eprintln!("{s:?} -> {:?}", e.get_tokens());
    }
}
