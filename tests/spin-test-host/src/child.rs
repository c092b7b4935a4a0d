//! Child processes of the tests (servers) that never outlive them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// A child process that dies with its guard, and with the test process: it runs under a `sh`
/// wrapper that kills it and its own children (SIGKILL) once the wrapper's stdin closes. Its
/// output goes to a file.
pub struct Guarded {
    wrapper: Option<(Child, ChildStdin)>,
    pid: u32,
}

impl Guarded {
    pub fn spawn(command: &mut Command, output: &Path) -> Guarded {
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        let envs: Vec<_> = command.get_envs().map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned()))).collect();
        let mut wrapper = Command::new("sh");
        wrapper
            .arg("-c")
            // `setsid`: the child leads a process group of its own, so that killing the group also
            // kills what it started (`spin up` runs its trigger as a child process).
            .arg(r#"out=$1; shift; setsid "$@" >"$out" 2>&1 & pid=$!; echo $pid; read _; kill -9 -$pid 2>/dev/null; wait $pid 2>/dev/null"#)
            .arg("sh")
            .arg(output)
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (key, value) in envs {
            match value {
                Some(value) => wrapper.env(key, value),
                None => wrapper.env_remove(key),
            };
        }
        let mut child = wrapper.spawn().expect("spawning sh");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let pid = line.trim().parse().expect("the wrapper prints the child's pid");
        Guarded { wrapper: Some((child, stdin)), pid }
    }

    /// The child's process id (the leader of its process group).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn is_running(&self) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        !stat.is_empty() && !stat.contains(") Z ")
    }

    pub fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.wrapper.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop();
    }
}
