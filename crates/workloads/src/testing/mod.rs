//! Tiny random-weight model fixtures written by code, so tests run offline.
pub mod bert;
pub mod dinov2;
pub mod efficientnet_lite;
pub mod hub;
pub mod llama;
pub mod mobilenetv4;
pub mod parquet;
pub mod silero;
pub mod vit;
pub mod whisper;
// Timm-named CNN fixtures (issue 11, s2-visa).
pub mod cnn;
pub mod convnext;
pub mod efficientnet;
pub mod resnet;
