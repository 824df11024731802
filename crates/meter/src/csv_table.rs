//! The shipped data tables (grid intensity, CPU TDP, per-vCPU watts): CSV with `#` comments,
//! trimmed fields and a fixed header.

use anyhow::{bail, Context};

/// A reader over `text` whose header has been checked to be exactly `expected`; `origin`
/// names the file in errors.
pub(crate) fn reader<'a>(
    text: &'a str,
    origin: &str,
    expected: &[&str],
) -> anyhow::Result<csv::Reader<&'a [u8]>> {
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{origin}: cannot read the header"))?
        .iter()
        .map(str::to_owned)
        .collect();
    if headers != expected {
        bail!(
            "{origin}: header must be {}, found {}",
            expected.join(","),
            headers.join(",")
        );
    }
    Ok(rdr)
}
