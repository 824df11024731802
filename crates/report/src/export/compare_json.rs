//! `frugalbench compare --format json`: the whole [`Comparison`] (options, pairs with both
//! samples, Welch test, interval, verdict, reasons, notes, exit code), pretty-printed, with a
//! final newline.

use anyhow::Context;

use super::Exporter;
use crate::compare::Comparison;

/// JSON compare report.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareJson;

impl Exporter<Comparison> for CompareJson {
    fn serialize(&self, cmp: &Comparison) -> anyhow::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(cmp).context("serialising the comparison")?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
