//! Tiny random-weight model fixtures written by code, so tests run offline.
pub mod bert;
pub mod llama;
pub mod silero;
