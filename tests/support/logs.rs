//! Every log line of the test binary, captured so tests can check that a rejection was logged
//! with its reason.

use std::sync::{Arc, Mutex};

static LOGS: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = LogWriter(buffer.clone());
        tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        buffer
    });
}

/// Whether a WARN line containing `text` was logged (by any test of this binary).
pub fn warned(text: &str) -> bool {
    let logs = LOGS.get().expect("capture_logs() first").lock().unwrap();
    String::from_utf8_lossy(&logs)
        .lines()
        .any(|line| line.contains("WARN") && line.contains(text))
}
