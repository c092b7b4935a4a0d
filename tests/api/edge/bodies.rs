//! Request bodies are read last and bounded (`src/body.rs`): the token, the route and the method are
//! checked first, a declared `Content-Length` over `max_body_bytes` is refused without reading a
//! byte, and a body without one is read only up to the limit. These tests speak HTTP over a raw
//! socket, so that they can declare a body they never send, or send one without end: a server that
//! waited for the body would never answer them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::helpers::{skip, TestApp};

const TOKEN: &str = "b0dy-t0ken";

/// Opens a connection to the app, with a read timeout that a server waiting for a body would hit.
fn connect(app: &TestApp) -> TcpStream {
    let address = app.base_url.trim_start_matches("http://");
    let stream = TcpStream::connect(address).expect("connecting to the app");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

/// Sends a request head (and no body), then reads the status of the answer.
fn status_for_head(app: &TestApp, head: &str) -> u16 {
    let mut stream = connect(app);
    stream.write_all(head.as_bytes()).unwrap();
    read_status(&mut stream)
}

fn read_status(stream: &mut TcpStream) -> u16 {
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("an answer before the read timeout");
    line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status line {line:?}"))
}

fn head(method: &str, path: &str, extra: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}\r\n")
}

#[test]
fn a_declared_body_is_never_read_before_the_token_route_and_method_pass() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", TOKEN)]) else { return };
    let huge = "Content-Length: 1000000000\r\n";
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n{huge}");
    // No token: 401 at once, though a gigabyte is announced and none of it sent.
    assert_eq!(status_for_head(&app, &head("POST", "/create_user", huge)), 401);
    assert_eq!(status_for_head(&app, &head("POST", "/v1/users", huge)), 401);
    // No such path, and no such method: never read either.
    assert_eq!(status_for_head(&app, &head("POST", "/nowhere", huge)), 404);
    assert_eq!(status_for_head(&app, &head("PUT", "/create_user", &bearer)), 405);
    assert_eq!(status_for_head(&app, &head("POST", "/get_user/1", &bearer)), 405);
    // With the token, on the right route: over max_body_bytes by its own declaration.
    assert_eq!(status_for_head(&app, &head("POST", "/create_user", &bearer)), 413);
    assert_eq!(status_for_head(&app, &head("PATCH", "/v1/users/1", &bearer)), 413);
    // A body a method does not take is not read: GET answers without waiting for it.
    assert_eq!(status_for_head(&app, &head("GET", "/v1/users", &bearer)), 200);
}

#[test]
fn the_limit_counts_from_the_declared_length_and_the_bytes_alike() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    // Just within the default 64 KiB, declared and sent: read and answered.
    let body = format!("{{\"nom\":\"{}\",\"prenom\":\"P\"}}", "n".repeat(150));
    let padded = format!("{body}{}", " ".repeat(65_536 - body.len()));
    let mut stream = connect(&app);
    stream.write_all(head("POST", "/v1/users", "Content-Length: 65536\r\n").as_bytes()).unwrap();
    stream.write_all(padded.as_bytes()).unwrap();
    assert_eq!(read_status(&mut stream), 201);
    // One byte more is refused from its declaration alone.
    assert_eq!(status_for_head(&app, &head("POST", "/v1/users", "Content-Length: 65537\r\n")), 413);
}

/// A chunked body has no declared length: it is read up to the limit, then refused, while the
/// client is still sending.
#[test]
fn a_chunked_body_is_read_only_up_to_the_limit() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut stream = connect(&app);
    stream.write_all(head("POST", "/v1/users", "Transfer-Encoding: chunked\r\n").as_bytes()).unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let sent = Arc::clone(&sent);
        std::thread::spawn(move || {
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
            // At most 256 MiB: far more than a server that stops at the limit reads.
            for _ in 0..4096 {
                if stream.write_all(chunk.as_bytes()).is_err() {
                    break;
                }
                sent.fetch_add(64 * 1024, Ordering::Relaxed);
            }
        })
    };
    let status = read_status(&mut stream);
    let sent_by_then = sent.load(Ordering::Relaxed);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    writer.join().unwrap();
    assert_eq!(status, 413);
    assert!(sent_by_then < 256 * 1024 * 1024, "the answer came only after the whole body was sent");
}

/// Under real Spin: clients sending 1 GiB bodies (without a token, to an unknown path, and over
/// the limit with the token) leave Spin's peak memory where it was. Prints the figures README
/// quotes. Before bodies were read lazily, one 1.5 GB body took `spin trigger` to 3.6 GB.
#[test]
fn gigabyte_bodies_leave_spin_memory_flat() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", TOKEN)]) else { return };
    let Some(spin) = app.real_spin() else {
        skip("measures the peak memory of Spin's processes, and this backend is not real Spin");
        return;
    };
    // Warm up: one ordinary request of each kind.
    assert_eq!(app.get("/healthz").status, 200);
    let before: u64 = spin.peak_memory_kib().iter().map(|(_, kib)| kib).sum();
    let gib: u64 = 1 << 30;
    let cases = [
        ("POST", "/create_user", String::new(), 401),
        ("POST", "/nowhere", String::new(), 404),
        ("POST", "/v1/users", format!("Authorization: Bearer {TOKEN}\r\n"), 413),
    ];
    let senders: Vec<_> = cases
        .into_iter()
        .map(|(method, path, extra, expected)| {
            let mut stream = connect(&app);
            let head = head(method, path, &format!("{extra}Transfer-Encoding: chunked\r\n"));
            std::thread::spawn(move || {
                stream.write_all(head.as_bytes()).unwrap();
                let mut writer = stream.try_clone().unwrap();
                let sending = std::thread::spawn(move || {
                    let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, "x".repeat(1 << 20));
                    let mut sent = 0;
                    while sent < gib && writer.write_all(chunk.as_bytes()).is_ok() {
                        sent += 1 << 20;
                    }
                    sent
                });
                let status = read_status(&mut stream);
                // Drain whatever else comes, so the server can finish its answer.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.read(&mut [0; 4096]);
                let _ = stream.shutdown(std::net::Shutdown::Both);
                let sent = sending.join().unwrap();
                assert_eq!(status, expected, "{path}");
                sent
            })
        })
        .collect();
    let sent: Vec<u64> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    let after = spin.peak_memory_kib();
    let after_total: u64 = after.iter().map(|(_, kib)| kib).sum();
    eprintln!(
        "Spin peak memory (VmHWM, all its processes): {} MiB before, {} MiB after 3 clients sent up to 1 GiB \
         each (sent {:?} MiB before their answers): {:?}",
        before / 1024,
        after_total / 1024,
        sent.iter().map(|s| s >> 20).collect::<Vec<_>>(),
        after
    );
    assert!(after_total < before + 64 * 1024, "peak memory grew from {before} KiB to {after_total} KiB");
}
