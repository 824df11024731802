//! Parquet rows → format-neutral records, with the `parquet` crate's row API (no Arrow).
//!
//! Each column becomes a field as a JSON value would: strings, numbers, booleans, lists
//! (arrays), structs (objects, e.g. SQuAD's `answers = {text: [...], answer_start: [...]}`) and
//! maps. The hub's encoded image and audio columns — a struct of `bytes` (binary) and `path`
//! (string) — become [`Media::Bytes`] with the path as its name (a struct with a path and
//! null bytes becomes the path, resolved like a JSONL path field); any other binary column that
//! is not UTF-8 text becomes unnamed embedded bytes. Row numbers in messages are 1-based.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};

use super::{Fields, Media, Record};

/// One Parquet row as the row parsers see it: its values as JSON, its embedded media apart.
#[derive(Debug, Clone, PartialEq)]
pub struct ParquetRow {
    pub values: serde_json::Map<String, serde_json::Value>,
    pub media: BTreeMap<String, Media>,
}

/// Every row of a Parquet file's bytes, as the row parsers see them (`source` names the file in
/// messages).
pub fn rows(bytes: &[u8], source: &str) -> Result<Vec<ParquetRow>> {
    Ok(records(bytes::Bytes::copy_from_slice(bytes), source)?
        .into_iter()
        .map(|r| ParquetRow {
            values: match r.fields {
                Fields::Json(m) => m,
                Fields::Csv(_) => unreachable!("Parquet rows are JSON-like"),
            },
            media: r.media,
        })
        .collect())
}

/// Every row of a Parquet file (all row groups, in order).
pub(crate) fn records(bytes: bytes::Bytes, source: &str) -> Result<Vec<Record<'_>>> {
    let reader = SerializedFileReader::new(bytes)
        .map_err(|e| anyhow!("{source}: not a readable Parquet file: {e}"))?;
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| anyhow!("{source}: cannot read the Parquet rows: {e}"))?;
    let mut out = Vec::new();
    for (i, row) in rows.enumerate() {
        let line = i + 1;
        let row = row.map_err(|e| anyhow!("{source}:{line}: cannot read the Parquet row: {e}"))?;
        out.push(record(row, source, line)?);
    }
    Ok(out)
}

fn record(row: Row, source: &str, line: usize) -> Result<Record<'_>> {
    let mut map = serde_json::Map::new();
    let mut media = BTreeMap::new();
    for (name, field) in row.into_columns() {
        match field {
            Field::Group(g) if is_media(&g) => match media_of(g) {
                Some(Ok(m)) => {
                    media.insert(name, m);
                }
                Some(Err(path)) => {
                    map.insert(name, serde_json::Value::String(path));
                }
                None => {
                    map.insert(name, serde_json::Value::Null);
                }
            },
            Field::Bytes(b) => match std::str::from_utf8(b.data()) {
                Ok(text) => {
                    map.insert(name, serde_json::Value::String(text.to_string()));
                }
                Err(_) => {
                    media.insert(
                        name,
                        Media::Bytes {
                            bytes: Arc::from(b.data()),
                            name: String::new(),
                        },
                    );
                }
            },
            other => {
                let v =
                    json(&other).map_err(|e| anyhow!("{source}:{line}: column \"{name}\": {e}"))?;
                map.insert(name, v);
            }
        }
    }
    Ok(Record {
        source,
        line,
        fields: Fields::Json(map),
        media,
    })
}

/// The hub's encoded media: a struct whose fields are `bytes` and optionally `path`.
fn is_media(g: &Row) -> bool {
    let names: Vec<&str> = g.get_column_iter().map(|(n, _)| n.as_str()).collect();
    names.contains(&"bytes") && names.iter().all(|n| *n == "bytes" || *n == "path")
}

/// `Ok(media)` for embedded bytes, `Err(path)` for a path without bytes, `None` when both are
/// null.
fn media_of(g: Row) -> Option<std::result::Result<Media, String>> {
    let mut bytes = None;
    let mut path = None;
    for (n, f) in g.into_columns() {
        match (n.as_str(), f) {
            ("bytes", Field::Bytes(b)) => bytes = Some(b),
            ("path", Field::Str(s)) => path = Some(s),
            ("path", Field::Bytes(b)) => path = Some(String::from_utf8_lossy(b.data()).into()),
            _ => {}
        }
    }
    match (bytes, path) {
        (Some(b), p) => Some(Ok(Media::Bytes {
            bytes: Arc::from(b.data()),
            name: p.unwrap_or_default(),
        })),
        (None, Some(p)) => Some(Err(p)),
        (None, None) => None,
    }
}

/// A (non-media) field as JSON.
fn json(f: &Field) -> Result<serde_json::Value> {
    use serde_json::Value;
    Ok(match f {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => Value::from(*n),
        Field::Short(n) => Value::from(*n),
        Field::Int(n) => Value::from(*n),
        Field::Long(n) => Value::from(*n),
        Field::UByte(n) => Value::from(*n),
        Field::UShort(n) => Value::from(*n),
        Field::UInt(n) => Value::from(*n),
        Field::ULong(n) => Value::from(*n),
        Field::Float16(x) => Value::from(f64::from(*x)),
        Field::Float(x) => Value::from(f64::from(*x)),
        Field::Double(x) => Value::from(*x),
        Field::Str(s) => Value::String(s.clone()),
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(t) => Value::String(t.to_string()),
            Err(_) => anyhow::bail!("binary data inside a list or struct is not supported"),
        },
        Field::Group(g) => {
            let mut m = serde_json::Map::new();
            for (n, v) in g.get_column_iter() {
                m.insert(n.clone(), json(v)?);
            }
            Value::Object(m)
        }
        Field::ListInternal(l) => {
            Value::Array(l.elements().iter().map(json).collect::<Result<_>>()?)
        }
        Field::MapInternal(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.entries() {
                let key = match k {
                    Field::Str(s) => s.clone(),
                    other => other.to_string(),
                };
                out.insert(key, json(v)?);
            }
            Value::Object(out)
        }
        // Decimals, dates, times and timestamps: their text, as the row API prints them.
        other => Value::String(other.to_string()),
    })
}
