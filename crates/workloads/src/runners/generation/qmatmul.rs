//! Quantized matmul for the GGUF decoders: candle's `QMatMul`, except for Q4_1 weights on an
//! x86-64 CPU with AVX2 and F16C, which go through [`PackedQ4_1`].
//!
//! Why: candle 0.11's CPU dot product for Q4_1 × Q8_1 is its generic scalar code
//! (`BlockQ4_1::vec_dot` calls `vec_dot_unopt`); a profile of SmolLM2-135M-Instruct Q4_1 spent
//! ~78% of its time there. [`PackedQ4_1`] computes exactly the same numbers with AVX2:
//!
//! - The activation rows are quantized to Q8_1 by candle's own `BlockQ8_1::from_float`, as
//!   `k_quants::matmul` does.
//! - Each block's integer dot product Σ q4·q8 is exact in any order (`vpdpbusd` with AVX-VNNI,
//!   else `maddubs`/`madd`); the float part is candle's expression `sumi·d_w·d_x + m_w·s_x`
//!   per block (separate multiplies and adds, never fused), added to each output's running sum
//!   block after block in candle's order, 8 outputs in the 8 lanes of one vector. The result is
//!   bit-identical to candle's: the unit tests compare every output with `==`, and
//!   `tests/greedy_pinned.rs` pins the greedy token ids.
//! - The weights are repacked once at load time, and the `QTensor` dropped: 8 weight rows
//!   interleaved block by block (their quants, then their 8 scales and 8 minimums), so that a
//!   micro-kernel reads one sequential stream. Same bytes as the GGUF's (plus < 8 zero rows of
//!   padding when the row count is not a multiple of 8).
//! - Work is split over candle's own CPU pool (`barrier_pool`, `CANDLE_NUM_THREADS`) in tiles
//!   of weight rows × activation rows, so a tile's weights stay in L1 while every activation
//!   row of the tile reads them.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{CpuStorage, CustomOp1, Layout, Module, Result, Shape, Tensor};

/// A quantized linear layer (no bias): `xs @ w.T`.
#[derive(Debug, Clone)]
pub enum QLinear {
    Candle(QMatMul),
    Q4_1(Arc<PackedQ4_1>),
}

impl QLinear {
    /// [`PackedQ4_1`] for Q4_1 on a supported CPU, else candle's `QMatMul`.
    pub fn from_qtensor(q: QTensor) -> Result<Self> {
        if q.dtype() == GgmlDType::Q4_1 && q.device().is_cpu() && PackedQ4_1::supported() {
            return Ok(QLinear::Q4_1(Arc::new(PackedQ4_1::new(&q)?)));
        }
        Ok(QLinear::Candle(QMatMul::from_qtensor(q)?))
    }

    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            QLinear::Candle(m) => m.forward(xs),
            QLinear::Q4_1(p) => xs.apply_op1_no_bwd(p.as_ref()),
        }
    }
}

/// Bytes of one GGUF Q4_1 block: f16 scale `d`, f16 minimum `m`, 16 bytes of 4-bit quants.
const Q4_1_BLOCK: usize = 20;
/// Bytes of one candle `BlockQ8_1`: f16 `d`, f16 `s` (= d · Σq), 32 × i8.
const Q8_1_BLOCK: usize = 36;
/// Values per block.
const QK: usize = 32;
/// Bytes of one block of a group of 8 weight rows: 8 × 16 bytes of quants (rows paired as
/// (0, 4), (1, 5), (2, 6), (3, 7), 32 bytes a pair), then 8 f16 scales and 8 f16 minimums in
/// row order.
const GROUP_BLOCK: usize = 8 * 16 + 8 * 2 + 8 * 2;
/// Groups of 8 weight rows per work item.
const TILE_GROUPS: usize = 2;
/// Activation rows per work item (bounds the activation bytes a tile streams through).
const TILE_ROWS: usize = 64;

/// A Q4_1 weight matrix `(n, k)`, repacked for [`PackedQ4_1`]'s kernel.
#[derive(Debug)]
pub struct PackedQ4_1 {
    n: usize,
    k: usize,
    /// Blocks per row (`k / 32`).
    nb: usize,
    /// Use AVX-VNNI's `vpdpbusd` for the integer dot products.
    vnni: bool,
    /// `ceil(n / 8)` groups × `nb` blocks × [`GROUP_BLOCK`] bytes.
    data: Vec<u8>,
}

impl PackedQ4_1 {
    /// Whether this CPU runs the kernel (x86-64 with AVX2 and F16C).
    pub fn supported() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("f16c")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// Repack a Q4_1 `QTensor` of shape `(n, k)`.
    pub fn new(q: &QTensor) -> Result<Self> {
        if q.dtype() != GgmlDType::Q4_1 {
            candle_core::bail!("PackedQ4_1: expected Q4_1 weights, got {:?}", q.dtype());
        }
        let (n, k) = q.shape().dims2()?;
        if k % QK != 0 {
            candle_core::bail!("PackedQ4_1: {k} columns are not whole blocks of {QK}");
        }
        let raw = q.data()?;
        let nb = k / QK;
        if raw.len() != n * nb * Q4_1_BLOCK {
            candle_core::bail!(
                "PackedQ4_1: {} bytes for a ({n}, {k}) Q4_1 matrix, expected {}",
                raw.len(),
                n * nb * Q4_1_BLOCK
            );
        }
        let groups = n.div_ceil(8);
        let mut data = vec![0u8; groups * nb * GROUP_BLOCK];
        for (c, row) in raw.chunks_exact(nb * Q4_1_BLOCK).enumerate() {
            let (g, lane) = (c / 8, c % 8);
            // Quants: pair (lane % 4) at 32 * (lane % 4), the second row of the pair after 16.
            let q_at = 32 * (lane % 4) + 16 * (lane / 4);
            for (b, block) in row.chunks_exact(Q4_1_BLOCK).enumerate() {
                let out = &mut data[(g * nb + b) * GROUP_BLOCK..][..GROUP_BLOCK];
                out[q_at..q_at + 16].copy_from_slice(&block[4..]);
                out[128 + 2 * lane..128 + 2 * lane + 2].copy_from_slice(&block[0..2]);
                out[144 + 2 * lane..144 + 2 * lane + 2].copy_from_slice(&block[2..4]);
            }
        }
        #[cfg(target_arch = "x86_64")]
        let vnni = avx2::has_vnni();
        #[cfg(not(target_arch = "x86_64"))]
        let vnni = false;
        Ok(PackedQ4_1 {
            n,
            k,
            nb,
            vnni,
            data,
        })
    }

    /// `dst[r * n + c] = dot(weight row c, activation row r)` for `r < rows`.
    fn matmul(&self, rows: usize, lhs: &[f32], dst: &mut [f32]) {
        let n = self.n;
        let y = Q8Rows::quantize(lhs, rows, self.k);
        let groups = n.div_ceil(8);
        let col_tiles = groups.div_ceil(TILE_GROUPS);
        let row_tiles = rows.div_ceil(TILE_ROWS);
        let dst_ptr = dst.as_mut_ptr() as usize;
        candle_core::utils::barrier_pool().execute_chunked(col_tiles * row_tiles, |items| {
            let dst = dst_ptr as *mut f32;
            for item in items {
                let (rt, ct) = (item / col_tiles, item % col_tiles);
                let r0 = rt * TILE_ROWS;
                let r1 = rows.min(r0 + TILE_ROWS);
                for g in ct * TILE_GROUPS..groups.min((ct + 1) * TILE_GROUPS) {
                    let c0 = g * 8;
                    let valid = (n - c0).min(8);
                    for r in r0..r1 {
                        let v = self.dot8(g, &y, r);
                        for (o, &v) in v.iter().enumerate().take(valid) {
                            // SAFETY: r < rows and c0 + o < n, so the index is inside `dst`
                            // (rows * n long); each (r, c) belongs to exactly one work item.
                            unsafe { *dst.add(r * n + c0 + o) = v };
                        }
                    }
                }
            }
        });
    }

    /// The dot products of the 8 weight rows of group `g` with activation row `r`.
    #[inline]
    fn dot8(&self, g: usize, y: &Q8Rows, r: usize) -> [f32; 8] {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a PackedQ4_1 is only built where `supported()` (AVX2 and F16C) holds, and
            // `vnni` only where AVX-VNNI is present; `g` is a group of this matrix and `r` a
            // row of `y`, which has this matrix's `nb` blocks per row.
            unsafe {
                if self.vnni {
                    avx2::dot8_vnni(self, g, y, r)
                } else {
                    avx2::dot8(self, g, y, r)
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            std::array::from_fn(|o| scalar_dot(self, g * 8 + o, y, r))
        }
    }

    /// Row `c`'s block `b`: (16 bytes of quants, scale bits, minimum bits).
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    fn block(&self, c: usize, b: usize) -> (&[u8], u16, u16) {
        let (g, lane) = (c / 8, c % 8);
        let blk = &self.data[(g * self.nb + b) * GROUP_BLOCK..][..GROUP_BLOCK];
        let q_at = 32 * (lane % 4) + 16 * (lane / 4);
        let d = u16::from_le_bytes([blk[128 + 2 * lane], blk[129 + 2 * lane]]);
        let m = u16::from_le_bytes([blk[144 + 2 * lane], blk[145 + 2 * lane]]);
        (&blk[q_at..q_at + 16], d, m)
    }
}

/// Activation rows quantized to Q8_1 by candle's `BlockQ8_1::from_float`, split into quants,
/// scales and sums.
struct Q8Rows {
    nb: usize,
    qs: Vec<i8>,
    d: Vec<f32>,
    s: Vec<f32>,
}

impl Q8Rows {
    fn quantize(lhs: &[f32], rows: usize, k: usize) -> Q8Rows {
        use candle_core::quantized::k_quants::{BlockQ8_1, GgmlType};
        const _: () = assert!(std::mem::size_of::<BlockQ8_1>() == Q8_1_BLOCK);
        let nb = k / QK;
        let mut blocks = vec![BlockQ8_1::zeros(); nb];
        let mut out = Q8Rows {
            nb,
            qs: vec![0; rows * nb * QK],
            d: vec![0.0; rows * nb],
            s: vec![0.0; rows * nb],
        };
        for r in 0..rows {
            BlockQ8_1::from_float(&lhs[r * k..(r + 1) * k], &mut blocks);
            // SAFETY: BlockQ8_1 is `repr(C)` {f16 d, f16 s, [i8; 32] qs}, 36 bytes (asserted
            // above), so its storage is readable as bytes.
            let bytes: &[u8] = unsafe {
                std::slice::from_raw_parts(blocks.as_ptr() as *const u8, nb * Q8_1_BLOCK)
            };
            for (j, b) in bytes.chunks_exact(Q8_1_BLOCK).enumerate() {
                let at = r * nb + j;
                out.d[at] = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
                out.s[at] = half::f16::from_le_bytes([b[2], b[3]]).to_f32();
                for (q, &v) in out.qs[at * QK..(at + 1) * QK].iter_mut().zip(&b[4..]) {
                    *q = v as i8;
                }
            }
        }
        out
    }
}

/// candle's `vec_dot_unopt` for Q4_1 × Q8_1 (weight row `c`, activation row `r`): the
/// reference the kernel is tested against, and the path off x86-64.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scalar_dot(w: &PackedQ4_1, c: usize, y: &Q8Rows, r: usize) -> f32 {
    let mut sumf = 0f32;
    for b in 0..w.nb {
        let (qs, d, m) = w.block(c, b);
        let at = r * y.nb + b;
        let yq = &y.qs[at * QK..(at + 1) * QK];
        let mut sumi = 0i32;
        for j in 0..16 {
            let v0 = (qs[j] & 0x0F) as i32;
            let v1 = (qs[j] >> 4) as i32;
            sumi += v0 * yq[j] as i32 + v1 * yq[j + 16] as i32;
        }
        let dw = half::f16::from_bits(d).to_f32();
        let mw = half::f16::from_bits(m).to_f32();
        sumf += sumi as f32 * dw * y.d[at] + mw * y.s[at];
    }
    sumf
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{PackedQ4_1, Q8Rows, GROUP_BLOCK, QK};
    use std::arch::x86_64::*;

    /// Whether the CPU has AVX-VNNI (`vpdpbusd` on 256-bit vectors).
    pub(super) fn has_vnni() -> bool {
        std::arch::is_x86_feature_detected!("avxvnni")
    }

    /// The 8 dot products of group `g`'s weight rows with activation row `r`, each equal to
    /// candle's `vec_dot` (see [`super::scalar_dot`]): per block, the 8 rows' integer sums land
    /// in the 8 lanes of one vector, their terms `(sumi·d_w)·d_x + m_w·s_x` are computed with
    /// unfused multiplies and adds, and lane `o` adds row `o`'s term to its running sum, block
    /// after block, as candle's scalar loop does.
    #[inline(always)]
    unsafe fn dot8_body<const VNNI: bool>(
        w: &PackedQ4_1,
        g: usize,
        y: &Q8Rows,
        r: usize,
    ) -> [f32; 8] {
        let nb = w.nb;
        let base = w.data.as_ptr().add(g * nb * GROUP_BLOCK);
        let yq = y.qs.as_ptr().add(r * nb * QK);
        let yd = y.d.as_ptr().add(r * nb);
        let ys = y.s.as_ptr().add(r * nb);
        let nibble = _mm256_set1_epi8(0x0F);
        let ones = _mm256_set1_epi16(1);
        let mut acc = _mm256_setzero_ps();
        for b in 0..nb {
            let p = base.add(b * GROUP_BLOCK);
            // The block's activations 0..16 and 16..32, each in both halves.
            let ylo =
                _mm256_broadcastsi128_si256(_mm_loadu_si128(yq.add(b * QK) as *const __m128i));
            let yhi =
                _mm256_broadcastsi128_si256(_mm_loadu_si128(yq.add(b * QK + 16) as *const __m128i));
            let mut pair = [_mm256_setzero_si256(); 4];
            for (j, out) in pair.iter_mut().enumerate() {
                // Rows j and j + 4: low nibbles = values 0..16, high nibbles = 16..32.
                let v = _mm256_loadu_si256(p.add(32 * j) as *const __m256i);
                let lo = _mm256_and_si256(v, nibble);
                let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
                *out = if VNNI {
                    _mm256_dpbusd_avx_epi32(
                        _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), lo, ylo),
                        hi,
                        yhi,
                    )
                } else {
                    // u8 (0..=15) × i8 (-127..=127): each i16 lane sums 4 products,
                    // |sum| <= 7620, no saturation.
                    let p16 = _mm256_add_epi16(
                        _mm256_maddubs_epi16(lo, ylo),
                        _mm256_maddubs_epi16(hi, yhi),
                    );
                    _mm256_madd_epi16(p16, ones)
                };
            }
            // Lanes 0..4 of pair j: row j's partial sums; lanes 4..8: row j + 4's.
            let sums = _mm256_hadd_epi32(
                _mm256_hadd_epi32(pair[0], pair[1]),
                _mm256_hadd_epi32(pair[2], pair[3]),
            );
            let dw = _mm256_cvtph_ps(_mm_loadu_si128(p.add(128) as *const __m128i));
            let mw = _mm256_cvtph_ps(_mm_loadu_si128(p.add(144) as *const __m128i));
            let t = _mm256_add_ps(
                _mm256_mul_ps(
                    _mm256_mul_ps(_mm256_cvtepi32_ps(sums), dw),
                    _mm256_set1_ps(*yd.add(b)),
                ),
                _mm256_mul_ps(mw, _mm256_set1_ps(*ys.add(b))),
            );
            acc = _mm256_add_ps(acc, t);
        }
        let mut out = [0f32; 8];
        _mm256_storeu_ps(out.as_mut_ptr(), acc);
        out
    }

    #[target_feature(enable = "avx2,f16c")]
    pub(super) unsafe fn dot8(w: &PackedQ4_1, g: usize, y: &Q8Rows, r: usize) -> [f32; 8] {
        dot8_body::<false>(w, g, y, r)
    }

    #[target_feature(enable = "avx2,f16c,avxvnni")]
    pub(super) unsafe fn dot8_vnni(w: &PackedQ4_1, g: usize, y: &Q8Rows, r: usize) -> [f32; 8] {
        dot8_body::<true>(w, g, y, r)
    }
}

impl CustomOp1 for PackedQ4_1 {
    fn name(&self) -> &'static str {
        "frugalbench-q4_1-matmul"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        if !layout.is_contiguous() {
            candle_core::bail!("{}: input is not contiguous {layout:?}", self.name());
        }
        let shape = layout.shape();
        let mut dims = shape.dims().to_vec();
        match dims.pop() {
            Some(k) if k == self.k => {}
            _ => candle_core::bail!(
                "{}: input {shape:?} does not end in {} columns",
                self.name(),
                self.k
            ),
        }
        let rows: usize = dims.iter().product();
        dims.push(self.n);
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("{}: input must be f32", self.name());
        };
        let start = layout.start_offset();
        let lhs = &data[start..start + rows * self.k];
        let mut dst = vec![0f32; rows * self.n];
        if rows > 0 {
            self.matmul(rows, lhs, &mut dst);
        }
        Ok((CpuStorage::F32(dst), Shape::from(dims)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    fn random(len: usize, seed: u64) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..len).map(|_| rng.random_range(-2.0f32..2.0)).collect()
    }

    /// Every output equals candle's QMatMul bit for bit, across block counts that exercise
    /// the 8-block groups and the tail, and row counts above and below a tile.
    #[test]
    fn q4_1_matmul_is_bit_identical_to_candle() {
        if !PackedQ4_1::supported() {
            eprintln!("AVX2/F16C not available: the kernel is not used on this CPU");
            return;
        }
        let dev = Device::Cpu;
        for (i, &(n, k, rows)) in [
            (13, 32, 1),
            (40, 64, 3),
            (96, 288, 5),
            (576, 576, 1),
            (192, 576, 39),
            (70, 1536, 2),
            (33, 544, 70),
            (8, 32, 130),
        ]
        .iter()
        .enumerate()
        {
            let w = Tensor::from_vec(random(n * k, i as u64), (n, k), &dev).unwrap();
            let q = QTensor::quantize(&w, GgmlDType::Q4_1).unwrap();
            let x = Tensor::from_vec(random(rows * k, 100 + i as u64), (1, rows, k), &dev).unwrap();
            let want = QMatMul::from_qtensor(QTensor::quantize(&w, GgmlDType::Q4_1).unwrap())
                .unwrap()
                .forward(&x)
                .unwrap();
            let want: Vec<f32> = want.flatten_all().unwrap().to_vec1().unwrap();
            let packed = PackedQ4_1::new(&q).unwrap();
            // Both integer kernels: AVX2 `maddubs`, and AVX-VNNI where the CPU has it.
            let mut variants = vec![false];
            if packed.vnni {
                variants.push(true);
            }
            for vnni in variants {
                let op = PackedQ4_1 {
                    vnni,
                    ..PackedQ4_1::new(&q).unwrap()
                };
                let got = QLinear::Q4_1(Arc::new(op)).forward(&x).unwrap();
                assert_eq!(got.dims(), &[1, rows, n]);
                let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
                for (j, (a, b)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "({n}, {k}) x {rows} rows, vnni {vnni}: output {j}"
                    );
                }
            }
            assert!(matches!(
                QLinear::from_qtensor(q).unwrap(),
                QLinear::Q4_1(_)
            ));
        }
    }

    /// The scalar reference (the path off x86-64) agrees with candle bit for bit.
    #[test]
    fn scalar_reference_matches_candle() {
        let dev = Device::Cpu;
        let (n, k, rows) = (5, 96, 3);
        let w = Tensor::from_vec(random(n * k, 7), (n, k), &dev).unwrap();
        let q = QTensor::quantize(&w, GgmlDType::Q4_1).unwrap();
        let packed = PackedQ4_1::new(&q).unwrap();
        let xs = random(rows * k, 8);
        let x = Tensor::from_vec(xs.clone(), (rows, k), &dev).unwrap();
        let want: Vec<f32> = QMatMul::from_qtensor(q)
            .unwrap()
            .forward(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let y = Q8Rows::quantize(&xs, rows, k);
        for r in 0..rows {
            for c in 0..n {
                let got = scalar_dot(&packed, c, &y, r);
                assert_eq!(got.to_bits(), want[r * n + c].to_bits(), "({r}, {c})");
            }
        }
    }
}
