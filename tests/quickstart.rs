//! README's quick start, run as written: its shell blocks are read out of README.md, so the test
//! and the document cannot drift apart. Every command runs, in order, in one `sh` (so variables
//! captured by one command serve the next), and what it prints must be what README shows in the
//! `# ` comment lines under it.
//!
//! Two commands are not run: `redis-server ...` and `spin up ...`. Instead, the test starts its
//! own redis-server on a free port and serves the app as the API tests do (the project's test host,
//! or real Spin when `SPIN_BIN` is set), and the commands' `http://127.0.0.1:3000` is replaced by
//! that app's address. Nothing here touches a Redis on port 6379.
//!
//! Outputs that differ on every run are compared by shape: an RFC 3339 UTC time stands for any
//! such time, and a run of 32 or more URL-safe characters (a token, a public id, an ETag) for any
//! run of the same length.
//!
//! Its own test binary: `tests/api` is organised by other concerns, and this one reads a document.

#[allow(dead_code)]
#[path = "api/helpers/mod.rs"]
mod helpers;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use helpers::TestApp;

/// The address README's commands use, replaced by the test app's.
const README_URL: &str = "http://127.0.0.1:3000";

/// README's commands that the test replaces with its own Redis and app.
const REPLACED: &[&str] = &["redis-server ", "spin up "];

/// One command of the quick start and the output README shows for it.
#[derive(Debug)]
struct Step {
    command: String,
    expected: Vec<String>,
}

#[test]
fn the_readme_quick_start_works_as_shown() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let steps = quick_start_steps(&readme);
    check_shape(&steps);

    for tool in ["sh", "curl", "sed", "grep", "cut", "tr"] {
        if !installed(tool) {
            helpers::skip(&format!("the quick start needs `{tool}`, which is not installed"));
            return;
        }
    }
    let Some(app) = TestApp::spawn_private(&[]) else { return };

    let to_run: Vec<&Step> = steps.iter().filter(|s| !is_replaced(&s.command)).collect();
    let outputs = run_in_one_shell(&to_run, &app.base_url);

    let mut report = String::new();
    for (step, actual) in to_run.iter().zip(&outputs) {
        let expected = step.expected.join("\n");
        if normalise(&expected) != normalise(actual) {
            report
                .push_str(&format!("\n$ {}\n  README shows: {expected:?}\n  it printed:   {actual:?}\n", step.command));
        }
    }
    assert!(report.is_empty(), "README's quick start does not print what it shows:{report}");
}

/// The commands of the shell blocks in README's "Quick start" section, each with the comment lines
/// that follow it (its output, without the leading `# `).
fn quick_start_steps(readme: &str) -> Vec<Step> {
    let section =
        readme.split("\n## ").find(|s| s.starts_with("Quick start\n")).expect("README has a `## Quick start` section");
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    let mut continued = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block && line.trim() == "```sh";
            continue;
        }
        if !in_block || line.trim().is_empty() {
            continue;
        }
        if continued {
            let step = steps.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(line);
        } else if let Some(output) = line.strip_prefix('#') {
            let step = steps.last_mut().expect("a quick-start block starts with an output line");
            step.expected.push(output.strip_prefix(' ').unwrap_or(output).to_owned());
        } else {
            steps.push(Step { command: line.to_owned(), expected: Vec::new() });
        }
        continued = line.ends_with('\\');
    }
    steps
}

/// The quick start does what its README promises: it starts Redis and Spin, and shows the output
/// of both APIs (so that an emptied or renamed section cannot pass by running nothing).
fn check_shape(steps: &[Step]) {
    for prefix in REPLACED {
        let found: Vec<&Step> = steps.iter().filter(|s| s.command.starts_with(prefix)).collect();
        assert_eq!(found.len(), 1, "the quick start runs `{prefix}...` once: {steps:#?}");
        assert!(found[0].expected.is_empty(), "`{prefix}...` is replaced, so it cannot show output");
    }
    for api in ["/create_user", "/get_session/", "/v1/users", "/v1/sessions"] {
        assert!(
            steps.iter().any(|s| s.command.contains(api) && !s.expected.is_empty()),
            "the quick start shows the output of a request to {api}"
        );
    }
}

fn is_replaced(command: &str) -> bool {
    REPLACED.iter().any(|prefix| command.starts_with(prefix))
}

fn installed(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the steps in one `sh`, in a scratch directory, and returns what each printed (stdout and
/// stderr), without trailing line breaks.
fn run_in_one_shell(steps: &[&Step], base_url: &str) -> Vec<String> {
    let marker = |i: usize| format!("@@quickstart step {i}@@");
    let mut script = String::new();
    for (i, step) in steps.iter().enumerate() {
        script.push_str(&format!("printf '\\n%s\\n' '{}'\n", marker(i)));
        script.push_str(&format!("{{\n{}\n}} 2>&1\n", step.command.replace(README_URL, base_url)));
    }
    let dir = helpers::real_spin::scratch_dir("quickstart");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting sh");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the quick start did not finish within 120 s:\n{script}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = reader.join().unwrap().expect("reading the shell's output");
    let _ = std::fs::remove_dir_all(&dir);

    let mut outputs = Vec::new();
    for i in 0..steps.len() {
        let start = out.find(&marker(i)).unwrap_or_else(|| panic!("step {i} never ran:\n{out}")) + marker(i).len() + 1;
        let end = out.find(&format!("\n{}", marker(i + 1))).unwrap_or(out.len());
        outputs.push(out[start.min(end)..end].trim_end_matches('\n').to_owned());
    }
    outputs
}

/// The text with what differs on every run replaced by its shape: RFC 3339 UTC times
/// (`2026-11-30T08:00:00.123456Z`) by `<time>`, and runs of 32 or more URL-safe characters (tokens,
/// public ids, ETags) by their length.
fn normalise(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some(len) = time_at(&chars[i..]) {
            out.push_str("<time>");
            i += len;
            continue;
        }
        // A client address (`client_address`) has the port the client happened to get.
        let loopback: Vec<char> = "127.0.0.1:".chars().collect();
        let port = chars[i..].iter().skip(loopback.len()).take_while(|c| c.is_ascii_digit()).count();
        if chars[i..].starts_with(&loopback) && port > 0 {
            out.push_str("127.0.0.1:<port>");
            i += loopback.len() + port;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '-' || **c == '_').count();
        if run >= 32 {
            out.push_str(&format!("<{run} random characters>"));
            i += run;
        } else {
            out.extend(&chars[i..i + run.max(1)]);
            i += run.max(1);
        }
    }
    out
}

/// The length of the RFC 3339 UTC time (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) at the start of `s`.
fn time_at(s: &[char]) -> Option<usize> {
    let shape = "dddd-dd-ddTdd:dd:dd";
    if s.len() < shape.len() + 1 {
        return None;
    }
    let fits = shape.chars().zip(s).all(|(p, c)| if p == 'd' { c.is_ascii_digit() } else { p == *c });
    if !fits {
        return None;
    }
    let mut len = shape.len();
    if s.get(len) == Some(&'.') {
        let digits = s[len + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        len += 1 + digits;
    }
    (s.get(len) == Some(&'Z')).then_some(len + 1)
}

#[test]
fn normalising_keeps_what_is_the_same_on_every_run() {
    assert_eq!(
        normalise(r#"{"id":2,"at":"2026-11-30T08:00:00.123456Z","until":"2026-11-30T08:10:00.123Z"}"#),
        r#"{"id":2,"at":"<time>","until":"<time>"}"#
    );
    assert_eq!(normalise("\"5f0b6d2a3c4e1f7a8b9c0d1e2f3a4b5c6d7e8f90\""), "\"<40 random characters>\"");
    assert_ne!(normalise("abcdefghijklmnopqrstuvwxyz012345"), normalise("abcdefghijklmnopqrstuvwxyz0123456"));
    assert_eq!(normalise("Doe-John 2026-11-30 1"), "Doe-John 2026-11-30 1");
    assert_eq!(normalise(r#""client_address":"127.0.0.1:53122""#), r#""client_address":"127.0.0.1:<port>""#);
}
