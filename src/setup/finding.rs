//! What a provisioning step finds: in place already, or the one change that would put it there.

use reqwest::Method;
use serde_json::Value;

/// A change a step wants made.
#[derive(Debug)]
pub enum Change {
    /// A write request to FusionAuth's API.
    Api {
        method: Method,
        path: String,
        body: Value,
        /// Sent as `X-FusionAuth-TenantId` (objects that belong to a tenant).
        tenant_id: Option<String>,
    },
    /// A file to (over)write.
    WriteFile {
        path: std::path::PathBuf,
        contents: String,
    },
}

/// What a step found: the message to report and, unless all is in place, the change to make.
#[derive(Debug)]
pub struct Finding {
    pub message: String,
    pub change: Option<Change>,
}

impl Finding {
    pub fn in_place(message: String) -> Self {
        Self {
            message,
            change: None,
        }
    }

    pub fn change(message: String, change: Change) -> Self {
        Self {
            message,
            change: Some(change),
        }
    }
}
