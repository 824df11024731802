//! Edits on format-neutral [`Record`]s, applied by a catalogue entry before the task's row
//! parser reads them: renaming columns to the task's fields, mapping raw labels to names,
//! setting a field, and reading a media field.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Result};

use super::{Fields, Media, Raw, Record};

impl Record<'_> {
    /// The column names of this row (values, then media), as the file has them.
    pub(crate) fn columns(&self) -> Vec<String> {
        self.field_names()
    }

    /// Rename columns to task fields: `columns` maps a task field (`text`) to the dataset's
    /// column (`quote`). Every named column must exist in the row.
    pub(crate) fn remap(&mut self, columns: &BTreeMap<String, String>) -> Result<()> {
        enum Taken {
            Json(serde_json::Value),
            Cell(String),
            Media(Media),
        }
        let mut taken = Vec::with_capacity(columns.len());
        for (field, column) in columns {
            let value = if let Some(m) = self.media.remove(column) {
                Some(Taken::Media(m))
            } else {
                match &mut self.fields {
                    Fields::Json(map) => map.remove(column).map(Taken::Json),
                    Fields::Csv(cells) => cells
                        .iter()
                        .position(|(k, _)| k == column)
                        .map(|i| Taken::Cell(cells.remove(i).1)),
                }
            };
            match value {
                Some(v) => taken.push((field, v)),
                None => {
                    return Err(anyhow!(
                        "{}:{}: column \"{column}\" (the entry's `columns.{field}`) is not in the dataset (row has: {})",
                        self.source,
                        self.line,
                        self.columns().join(", ")
                    ))
                }
            }
        }
        for (field, value) in taken {
            match value {
                Taken::Media(m) => {
                    self.media.insert(field.clone(), m);
                }
                Taken::Json(v) => self.set_json(field, v),
                Taken::Cell(c) => self.set_json(field, serde_json::Value::String(c)),
            }
        }
        Ok(())
    }

    /// Set `field` to a JSON value (a CSV cell gets its text).
    pub(crate) fn set_json(&mut self, field: &str, value: serde_json::Value) {
        self.media.remove(field);
        match &mut self.fields {
            Fields::Json(map) => {
                map.insert(field.to_string(), value);
            }
            Fields::Csv(cells) => {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                match cells.iter_mut().find(|(k, _)| k == field) {
                    Some((_, v)) => *v = text,
                    None => cells.push((field.to_string(), text)),
                }
            }
        }
    }

    /// Whether the row has a (non-null, non-empty) value or media for `field`.
    pub(crate) fn has(&self, field: &str) -> bool {
        self.media.contains_key(field) || self.get(field).is_some()
    }

    /// Replace the raw `label` (a string, or an integer taken as its decimal text) by its name
    /// from `labels`; a value the map does not know is an error naming the row.
    pub(crate) fn map_label(&mut self, labels: &BTreeMap<String, String>) -> Result<()> {
        let raw = match self.get("label") {
            None => return Err(self.missing("label")),
            Some(Raw::Json(serde_json::Value::Number(n))) => n.to_string(),
            Some(Raw::Json(serde_json::Value::String(s))) => s.trim().to_string(),
            Some(Raw::Cell(c)) => c.trim().to_string(),
            Some(Raw::Json(v)) => {
                return Err(self.err(
                    "label",
                    format!(
                        "expected a string or an integer, got {}",
                        super::json_kind(v)
                    ),
                ))
            }
        };
        let Some(name) = labels.get(&raw) else {
            return Err(self.err(
                "label",
                format!(
                    "{raw:?} is not in the entry's label map (known: {})",
                    labels.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        self.set_json("label", serde_json::Value::String(name.clone()));
        Ok(())
    }

    /// A media field: embedded bytes (a Parquet `{bytes, path}` column), or a path in a string
    /// field, relative to `base` (the dataset file's folder). For the audio and image row
    /// parsers.
    #[allow(dead_code)] // used by the audio and image row parsers
    pub(crate) fn media_field(&self, field: &str, base: Option<&Path>) -> Result<Media> {
        if let Some(m) = self.media.get(field) {
            return Ok(m.clone());
        }
        match self.get(field) {
            None => Err(self.missing(field)),
            Some(Raw::Cell(c)) => Media::from_path_field(c, base).map_err(|e| self.err(field, e)),
            Some(Raw::Json(serde_json::Value::String(s))) => {
                Media::from_path_field(s, base).map_err(|e| self.err(field, e))
            }
            Some(Raw::Json(v)) => Err(self.err(
                field,
                format!(
                    "expected a file path or embedded bytes, got {}",
                    super::json_kind(v)
                ),
            )),
        }
    }
}
