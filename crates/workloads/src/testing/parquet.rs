//! Write small Parquet files the way the hub's exports lay them out (Snappy-compressed; text
//! columns as optional UTF-8 strings; encoded media as `struct<bytes: binary, path: string>`),
//! with the `parquet` crate's column writer.

use std::sync::Arc;

use anyhow::Result;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// One column of a test file (all columns must have the same number of rows).
pub enum Column {
    /// Optional UTF-8 strings (`None` = null).
    Str(&'static str, Vec<Option<String>>),
    Double(&'static str, Vec<f64>),
    Int64(&'static str, Vec<i64>),
    /// The hub's encoded image/audio: `(bytes, path)` per row.
    Media(&'static str, Vec<(Vec<u8>, String)>),
}

impl Column {
    fn schema(&self) -> String {
        match self {
            Column::Str(n, _) => format!("optional binary {n} (STRING);"),
            Column::Double(n, _) => format!("required double {n};"),
            Column::Int64(n, _) => format!("required int64 {n};"),
            Column::Media(n, _) => format!(
                "optional group {n} {{ optional binary bytes; optional binary path (STRING); }}"
            ),
        }
    }
}

/// The bytes of a Parquet file holding `columns` in one row group.
pub fn parquet_bytes(columns: &[Column]) -> Result<Vec<u8>> {
    let message = format!(
        "message schema {{ {} }}",
        columns
            .iter()
            .map(Column::schema)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let schema = Arc::new(parse_message_type(&message)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, props)?;
    let mut rg = writer.next_row_group()?;
    for c in columns {
        match c {
            Column::Str(_, values) => {
                let defs: Vec<i16> = values.iter().map(|v| v.is_some() as i16).collect();
                let present: Vec<ByteArray> = values
                    .iter()
                    .flatten()
                    .map(|s| ByteArray::from(s.as_str()))
                    .collect();
                let mut col = rg.next_column()?.expect("a column");
                col.typed::<ByteArrayType>()
                    .write_batch(&present, Some(&defs), None)?;
                col.close()?;
            }
            Column::Double(_, values) => {
                let mut col = rg.next_column()?.expect("a column");
                col.typed::<DoubleType>().write_batch(values, None, None)?;
                col.close()?;
            }
            Column::Int64(_, values) => {
                let mut col = rg.next_column()?.expect("a column");
                col.typed::<Int64Type>().write_batch(values, None, None)?;
                col.close()?;
            }
            Column::Media(_, values) => {
                // Leaf `bytes` then leaf `path`; both present: definition level 2.
                let defs = vec![2i16; values.len()];
                let bytes: Vec<ByteArray> = values
                    .iter()
                    .map(|(b, _)| ByteArray::from(b.clone()))
                    .collect();
                let paths: Vec<ByteArray> = values
                    .iter()
                    .map(|(_, p)| ByteArray::from(p.as_str()))
                    .collect();
                for leaf in [bytes, paths] {
                    let mut col = rg.next_column()?.expect("a column");
                    col.typed::<ByteArrayType>()
                        .write_batch(&leaf, Some(&defs), None)?;
                    col.close()?;
                }
            }
        }
    }
    rg.close()?;
    Ok(writer.into_inner()?)
}
