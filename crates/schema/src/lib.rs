//! The shared vocabulary of frugalbench and the types of its result file.
//!
//! Every other crate (meter, workloads, report, the CLI) names tasks, methods and domain kinds
//! with these types, and the result file is [`RunResult`]; nothing converts between copies.
//!
//! - [`task`]: the [`Task`] enum.
//! - [`method`]: [`Method`] (one domain), [`OverallMethod`] (a total), [`DomainKind`].
//! - [`result`]: [`RunResult`] and its parts (`schema/result.schema.json` is the contract).
//! - [`derive`]: [`RunRecord`] → [`RunResult`]: every derived figure, computed once.
//! - [`stats`]: mean, sample std, Student-t 95% CI, percentiles.
//! - [`units`]: Wh per 1,000 queries, grams of CO2e.

pub mod derive;
pub mod method;
pub mod result;
pub mod stats;
pub mod task;
pub mod units;

pub use derive::{GenerationRecord, RepetitionRecord, RunRecord};
pub use method::{DomainKind, Method, OverallMethod};
pub use result::*;
pub use task::Task;
pub use units::{grams_co2e, per, wh_per_1000_queries, JOULES_PER_KWH, JOULES_PER_WH};
