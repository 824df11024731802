//! How Candle's CPU thread pools are set up for a run: call [`configure`] once at process
//! start, before the first tensor operation (the pools read their environment when first used).
//!
//! Candle 0.11 keeps two pools: rayon's (the f32 `gemm` matmuls) and its own barrier pool
//! (element-wise ops, softmax, the quantized matmuls, our Q4_1 kernel). An idle barrier-pool
//! worker spins `CANDLE_BARRIER_POOL_SPIN_LIMIT` times (default 25,000 `pause`s, about half a
//! millisecond here) before it sleeps. During every gemm that spinning thread competes with
//! rayon's workers for the same cores, and on a machine with other load it also competes with
//! the other tenants — and spinning is energy the meter charges to the model. We lower the
//! limit to [`SPIN_LIMIT`] (about 20 µs: long enough to bridge the gap between two
//! element-wise ops, short enough to sleep through a gemm) unless the user has set it.
//! Measured in the README's performance section.
//!
//! [`configure`] also raises glibc's mmap threshold: by default every buffer over 32 MiB (a
//! batch of 32 pictures' activations is up to 154 MB) is a fresh `mmap`, so each op pays page
//! faults, the kernel zeroing the pages and an `munmap` — 28% of an EfficientNet-Lite0 batch-32
//! profile. Above the threshold nothing changes but where the memory comes from: freed buffers
//! stay in the heap for the next op.

/// Spins of an idle barrier-pool worker before it sleeps, unless `CANDLE_BARRIER_POOL_SPIN_LIMIT`
/// is set.
pub const SPIN_LIMIT: u32 = 1000;

/// Threads for both pools, and the barrier pool's spin limit (left alone when set by the user).
/// Returns the spin limit in effect.
pub fn configure(threads: usize) -> u32 {
    std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
    keep_freed_memory();
    spin_limit_or_default()
}

/// Serve large buffers from the heap and keep freed ones there (glibc; elsewhere a no-op).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before the big allocations.
    unsafe {
        const GIB: libc::c_int = 1 << 30;
        libc::mallopt(libc::M_MMAP_THRESHOLD, GIB);
        libc::mallopt(libc::M_TRIM_THRESHOLD, GIB);
    }
}

/// The spin limit from the environment, else [`SPIN_LIMIT`] (set into the environment).
pub fn spin_limit_or_default() -> u32 {
    const VAR: &str = "CANDLE_BARRIER_POOL_SPIN_LIMIT";
    match std::env::var(VAR).ok().and_then(|v| v.parse().ok()) {
        Some(n) => n,
        None => {
            std::env::set_var(VAR, SPIN_LIMIT.to_string());
            SPIN_LIMIT
        }
    }
}
