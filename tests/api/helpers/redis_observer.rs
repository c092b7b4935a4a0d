//! What an app did to its Redis, seen from Redis's side, so that the same checks hold under the
//! test host and under real Spin: the connections Redis accepted (`INFO stats`) and every command
//! a client sent, one per round trip (`MONITOR`, which marks commands run inside scripts as
//! `lua`, so they are told apart from round trips).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A `MONITOR` connection and a control connection to one redis-server (without a password).
pub struct RedisObserver {
    monitor: BufReader<TcpStream>,
    control: BufReader<TcpStream>,
    /// The control connection's address as Redis prints it, to leave its own commands out.
    control_addr: String,
    marks: u64,
}

/// What Redis saw between `RedisObserver::start` and `finish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisActivity {
    /// Connections accepted.
    pub opens: u64,
    /// One entry per round trip, upper-cased command names, in the order Redis ran them, without
    /// the client library's connection set-up (`CLIENT SETINFO`, `HELLO`, `SELECT`).
    pub round_trips: Vec<String>,
    /// Every command Redis showed for other clients, whole, in order: round trips, set-up and the
    /// commands scripts ran (client `lua`), for tests that look at keys and arguments.
    pub commands: Vec<MonitorCommand>,
}

/// One command as `MONITOR` showed it: who sent it (an address, or `lua` inside a script) and its
/// arguments, unescaped, the command name first as the client spelled it.
#[derive(Clone, PartialEq, Eq)]
pub struct MonitorCommand {
    pub client: String,
    pub args: Vec<Vec<u8>>,
}

/// Readable in assertion messages: arguments as text, long ones (scripts) cut short.
impl std::fmt::Debug for MonitorCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| {
                let text = String::from_utf8_lossy(a);
                match text.char_indices().nth(80) {
                    Some((cut, _)) => format!("{}...", &text[..cut]),
                    None => text.into_owned(),
                }
            })
            .collect();
        write!(f, "[{}] {args:?}", self.client)
    }
}

impl MonitorCommand {
    /// The command name, upper-cased.
    pub fn name(&self) -> String {
        self.args.first().map(|a| String::from_utf8_lossy(a).to_ascii_uppercase()).unwrap_or_default()
    }
}

/// The arguments of a `MONITOR` line, each quoted and escaped as Redis's `sdscatrepr` writes them
/// (`\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`).
fn parse_monitor_args(line: &str) -> Option<Vec<Vec<u8>>> {
    let (_, rest) = line.split_once("] ")?;
    let bytes = rest.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        if bytes[i] != b'"' {
            return None;
        }
        i += 1;
        let mut arg = Vec::new();
        loop {
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    i += 1;
                    match *bytes.get(i)? {
                        b'n' => arg.push(b'\n'),
                        b'r' => arg.push(b'\r'),
                        b't' => arg.push(b'\t'),
                        b'a' => arg.push(7),
                        b'b' => arg.push(8),
                        b'x' => {
                            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                            arg.push(u8::from_str_radix(hex, 16).ok()?);
                            i += 2;
                        }
                        other => arg.push(other),
                    }
                }
                other => arg.push(other),
            }
            i += 1;
        }
        i += 1;
        args.push(arg);
    }
    Some(args)
}

fn connect(port: u16) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the test Redis");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    BufReader::new(stream)
}

/// Sends one command and reads one reply: simple strings, errors, integers and bulk strings,
/// which is all this module asks for.
fn command(conn: &mut BufReader<TcpStream>, args: &[&str]) -> String {
    let mut out = format!("*{}\r\n", args.len());
    for arg in args {
        out.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    conn.get_mut().write_all(out.as_bytes()).unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    match line.as_bytes().first() {
        Some(b'$') => {
            let len: usize = line[1..].trim().parse().unwrap();
            let mut body = vec![0; len + 2];
            std::io::Read::read_exact(conn, &mut body).unwrap();
            String::from_utf8_lossy(&body[..len]).into_owned()
        }
        Some(b'-') => panic!("Redis refused {args:?}: {line}"),
        _ => line[1..].trim_end().to_owned(),
    }
}

fn info_field(info: &str, field: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO"))
}

/// The parts of a `MONITOR` line: `1700000000.123456 [0 127.0.0.1:5000] "get" "user:1"`.
fn parse_monitor_line(line: &str) -> Option<(&str, String)> {
    let (_, rest) = line.split_once(" [")?;
    let (source, rest) = rest.split_once("] ")?;
    let client = source.split_once(' ').map_or(source, |(_db, client)| client);
    let command = rest.strip_prefix('"')?.split('"').next()?.to_ascii_uppercase();
    Some((client, command))
}

impl RedisObserver {
    pub fn connect(port: u16) -> RedisObserver {
        let mut control = connect(port);
        let client_info = command(&mut control, &["CLIENT", "INFO"]);
        let control_addr =
            client_info.split(' ').find_map(|kv| kv.strip_prefix("addr=")).expect("addr in CLIENT INFO").to_owned();
        let mut monitor = connect(port);
        monitor.get_mut().write_all(b"MONITOR\r\n").unwrap();
        let mut ok = String::new();
        monitor.read_line(&mut ok).unwrap();
        assert_eq!(ok.trim_end(), "+OK", "MONITOR refused");
        RedisObserver { monitor, control, control_addr, marks: 0 }
    }

    fn total_connections(&mut self) -> u64 {
        info_field(&command(&mut self.control, &["INFO", "stats"]), "total_connections_received")
    }

    /// Sends a marker through the control connection and returns every client command the
    /// monitor shows before it: Redis runs commands one at a time and shows them in order, so
    /// once the marker shows, everything sent before it has shown too.
    fn drain(&mut self) -> Vec<(String, String, String)> {
        self.marks += 1;
        let marker = format!("observer-mark-{}", self.marks);
        command(&mut self.control, &["ECHO", &marker]);
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            assert!(self.monitor.read_line(&mut line).unwrap() > 0, "MONITOR connection closed");
            let Some((client, cmd)) = parse_monitor_line(line.trim_end()) else { continue };
            if client == self.control_addr {
                if line.contains(&marker) {
                    return seen;
                }
                continue;
            }
            seen.push((client.to_owned(), cmd, line.trim_end().to_owned()));
        }
    }

    /// Starts a window of observation.
    pub fn start(&mut self) -> u64 {
        self.drain();
        self.total_connections()
    }

    /// Ends the window that `start` (which returned `connections_before`) opened.
    pub fn finish(&mut self, connections_before: u64) -> RedisActivity {
        let commands = self.drain();
        // The control connection's INFO opens nothing: the count is everyone else's.
        let opens = self.total_connections() - connections_before;
        let round_trips = commands
            .iter()
            .filter(|(client, cmd, _)| {
                client != "lua" && !matches!(cmd.as_str(), "CLIENT" | "HELLO" | "SELECT" | "AUTH")
            })
            .map(|(_, cmd, _)| cmd.clone())
            .collect();
        let commands = commands
            .into_iter()
            .map(|(client, _, line)| {
                let args = parse_monitor_args(&line).unwrap_or_else(|| panic!("unreadable MONITOR line: {line}"));
                MonitorCommand { client, args }
            })
            .collect();
        RedisActivity { opens, round_trips, commands }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_monitor_args, parse_monitor_line};

    #[test]
    fn monitor_lines_are_read_as_client_and_command() {
        assert_eq!(
            parse_monitor_line(r#"1700000000.123456 [0 127.0.0.1:5000] "get" "user:1""#),
            Some(("127.0.0.1:5000", "GET".to_owned()))
        );
        assert_eq!(
            parse_monitor_line(r#"1700000000.123456 [0 lua] "zadd" "k" "1" "m""#),
            Some(("lua", "ZADD".to_owned()))
        );
        assert_eq!(parse_monitor_line("OK"), None);
    }

    #[test]
    fn monitor_arguments_are_unescaped() {
        assert_eq!(
            parse_monitor_args(r#"1700000000.123456 [0 lua] "SET" "k\"1" "a\\b\n\x00\xff" "" "#),
            Some(vec![b"SET".to_vec(), b"k\"1".to_vec(), b"a\\b\n\x00\xff".to_vec(), Vec::new()])
        );
        assert_eq!(parse_monitor_args("OK"), None);
    }
}
