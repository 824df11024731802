//! The result files of frugalbench: their schema ([`RunResult`], `schema/result.schema.json`),
//! checks ([`validate`], [`sanity_check`]), statistics ([`stats`]) and atomic,
//! never-overwriting writing ([`write_result`], [`write_atomic`]).
//!
//! Modules:
//! - [`validate`]: JSON Schema validation and sanity rules.
//! - [`write`]: result paths, atomic writes, reading back.
//!
//! Reading many results: [`walk`] (the one result-folder walker) and [`inputs`]. Comparing:
//! [`compare`] and [`significance`]. The board side (leaderboard, charts, labels, run
//! report): [`board`]. Output formats: [`export`] (one file per format). Shared number and
//! text formatting: [`display`]. Atomic folders: [`outdir`].
//!
//! The result types ([`result`]), their derivation and [`stats`] live in `frugalbench-schema`
//! and are re-exported here.

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

// The result types and their statistics live in `frugalbench-schema`; the board side names
// them through these paths.
pub use frugalbench_schema::result::*;
pub use frugalbench_schema::{
    grams_co2e, wh_per_1000_queries, OverallMethod, Task, JOULES_PER_KWH, JOULES_PER_WH,
};
pub use frugalbench_schema::{result, stats};
pub use validate::{sanity_check, validate, RESULT_SCHEMA};
pub use write::{
    is_result_file_name, path_component, read_result, result_path, timeline_path, timestamp_stem,
    write_atomic, write_result,
};
