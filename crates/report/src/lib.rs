//! The result files of frugalbench: their schema ([`RunResult`], `schema/result.schema.json`),
//! checks ([`validate`], [`sanity_check`]), statistics ([`stats`]) and atomic,
//! never-overwriting writing ([`write_result`], [`write_atomic`]).
//!
//! Modules:
//! - [`result`]: the serde types of a result file.
//! - [`derived`]: unit conversions and [`RunResult::fill_derived`].
//! - [`validate`]: JSON Schema validation and sanity rules.
//! - [`stats`]: mean, sample std, Student-t 95% CI, percentiles.
//! - [`write`]: result paths, atomic writes, reading back.
//!
//! Reading many results: [`walk`] (the one result-folder walker) and [`inputs`]. Comparing:
//! [`compare`] and [`significance`]. The board side (leaderboard, charts, labels, run
//! report): [`board`]. Output formats: [`export`] (one file per format). Shared number and
//! text formatting: [`display`]. Atomic folders: [`outdir`].

pub mod derived;
pub mod result;
pub mod stats;
pub mod validate;
pub mod write;

pub mod board;
pub mod compare;
pub mod display;
pub mod export;
pub mod inputs;
pub mod outdir;
pub mod significance;
pub mod walk;

pub use derived::{grams_co2e, wh_per_1000_queries, JOULES_PER_KWH, JOULES_PER_WH};
pub use result::*;
pub use validate::{sanity_check, validate, RESULT_SCHEMA};
pub use write::{
    is_result_file_name, path_component, read_result, result_path, timeline_path, timestamp_stem,
    write_atomic, write_result,
};
