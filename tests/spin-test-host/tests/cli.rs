//! The command README gives for serving the app without the Spin CLI works as written:
//! `cargo run -p spin-test-host --release -- --build`, run from the repository's root, with the
//! default manifest path `spin.toml`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn build_and_serve_with_the_default_manifest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spin-test-host"))
        .args(["--build", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting spin-test-host");
    // Building the component (cached by cargo) and compiling it take a while on a busy machine.
    let deadline = Instant::now() + Duration::from_secs(300);
    let answer = loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("spin-test-host exited ({status}):\n{err}");
        }
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            break answer;
        }
        assert!(Instant::now() < deadline, "spin-test-host did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"openapi\":\"3.1"), "{answer}");
}
