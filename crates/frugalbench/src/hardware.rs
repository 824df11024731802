//! What machine a result was measured on.

use frugalbench_schema::Hardware;
use sysinfo::System;

/// This machine, for result files; `gpus` are the metered GPUs' names.
pub fn detect(gpus: Vec<String>) -> Hardware {
    let (cpu_model, logical, memory_bytes) = match System::new() {
        Ok(mut sys) => {
            sys.refresh_cpu_all();
            sys.refresh_memory();
            let model = sys
                .cpus()
                .first()
                .map(|c| c.brand().trim().to_string())
                .filter(|s| !s.is_empty());
            (model, sys.cpus().len(), sys.total_memory())
        }
        Err(_) => (None, 0, 0),
    };
    let logical_cpus = if logical > 0 {
        logical
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    Hardware {
        cpu_model: cpu_model.unwrap_or_else(|| "unknown".into()),
        physical_cores: System::physical_core_count().unwrap_or(logical_cpus) as u64,
        logical_cpus: logical_cpus as u64,
        gpus,
        memory_bytes,
        os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into()),
        kernel: System::kernel_version().unwrap_or_else(|_| "unknown".into()),
        hostname: System::host_name().ok(),
    }
}
