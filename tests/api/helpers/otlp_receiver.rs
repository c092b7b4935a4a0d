//! A tiny OTLP/HTTP receiver for tests that look at what a server exports: it listens on a
//! loopback port, answers `200` with an empty body (an empty protobuf `Export*ServiceResponse`)
//! to every request, and keeps every request's path, headers and body bytes as received.
//! Point `OTEL_EXPORTER_OTLP_ENDPOINT` at `url()`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Export {
    pub method: String,
    /// E.g. `/v1/traces`, `/v1/logs`, `/v1/metrics`.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Export {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

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

/// HTTP/1.1 with keep-alive: bodies by `content-length` or chunked, one `200` for each.
fn serve(stream: TcpStream, keep: &Mutex<Vec<Export>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let _ = writer.set_nodelay(true);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            match read_chunked(&mut reader) {
                Some(body) => body,
                None => return,
            }
        } else {
            let length = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            body
        };
        keep.lock().unwrap().push(Export { method, path, headers, body });
        // One write: a head and a body in two small writes meet Nagle and delayed ACKs.
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            // The last chunk: `0\r\n` then trailers (none here) and an empty line, already read.
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}
