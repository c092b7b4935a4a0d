//! A tiny OTLP/HTTP receiver for tests that look at what a server exports: it listens on a
//! loopback port, answers `200` with an empty body (an empty protobuf `Export*ServiceResponse`)
//! to every request, and keeps every request's path, headers and body bytes as received.
//! Point `OTEL_EXPORTER_OTLP_ENDPOINT` at `url()`.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One request the receiver got: its path is e.g. `/v1/traces`, `/v1/logs`, `/v1/metrics`.
pub type Export = super::http1::HttpRequest;

pub struct OtlpReceiver {
    port: u16,
    received: Arc<Mutex<Vec<Export>>>,
    stopped: Arc<AtomicBool>,
}

impl OtlpReceiver {
    pub fn start() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Vec<Export>>> = Arc::default();
        let stopped: Arc<AtomicBool> = Arc::default();
        let (keep, stop) = (received.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let keep = keep.clone();
                std::thread::spawn(move || serve(stream, &keep));
            }
        });
        OtlpReceiver { port, received, stopped }
    }

    /// The value for `OTEL_EXPORTER_OTLP_ENDPOINT` (exporters append `/v1/<signal>`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Export> {
        self.received.lock().unwrap().clone()
    }

    /// Whether any request to `path` (e.g. `/v1/traces`) holds `needle` in its body.
    pub fn has(&self, path: &str, needle: &[u8]) -> bool {
        self.received.lock().unwrap().iter().any(|e| e.path == path && super::secrets::contains(&e.body, needle))
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        // Wake the accept loop so that it sees `stopped` and ends.
        self.stopped.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// HTTP/1.1 with keep-alive: one `200` for each request.
fn serve(stream: TcpStream, keep: &Mutex<Vec<Export>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let _ = writer.set_nodelay(true);
    while let Some(request) = super::http1::read_request(&mut reader) {
        keep.lock().unwrap().push(request);
        // One write: a head and a body in two small writes meet Nagle and delayed ACKs.
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
