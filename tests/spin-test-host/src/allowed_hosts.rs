//! `allowed_outbound_hosts` matching for Redis addresses, after Spin's outbound-networking rules
//! (`crates/outbound-networking-config/src/allowed_hosts.rs`). An entry is `scheme://host[:port]`,
//! split on its last `:` with no URL parsing: scheme may be `*`; host may be `*` or `*.suffix`;
//! port may be `*`, a range `a..b` (end exclusive), or omitted only for schemes with a well-known
//! port (`redis` has 6379; `rediss` has none). Userinfo is not recognised in an entry, so an entry
//! with credentials never matches anything, as in Spin. The address checked is a URL whose userinfo
//! and path are ignored.

use anyhow::{anyhow, bail, Context, Result};

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Suffix(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
    Exact(u16),
}

/// Spin's list of schemes whose port may be left out.
fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// The parts of an address the check needs: scheme, host, port (userinfo and path dropped).
fn split_url(url: &str) -> Result<(String, String, Option<String>)> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| anyhow!("{url:?} has no scheme"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| anyhow!("bad IPv6 host in {url:?}"))?;
        (host.to_owned(), after.strip_prefix(':').map(str::to_owned))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port.to_owned())),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() {
        bail!("{url:?} has no host");
    }
    Ok((scheme.to_ascii_lowercase(), host, port))
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<AllowedHost> {
        let trimmed = entry.trim();
        let (scheme, rest) = trimmed.split_once("://").ok_or_else(|| anyhow!("{entry:?} does not contain a scheme"))?;
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match port.split_once('/') {
            Some((_, path)) if !path.is_empty() => bail!("{entry:?} has a path but is not allowed to"),
            Some((port, _)) => port,
            None => port,
        };
        let scheme = match scheme {
            "*" => None,
            s if s.chars().all(char::is_alphabetic) => Some(s.to_owned()),
            s => bail!("scheme {s:?} contains non alphabetic character"),
        };
        let host = host.trim();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.contains('*') {
                bail!("invalid allowed host {host}: wildcards are allowed only as prefixes");
            }
            HostPattern::Suffix(suffix.to_owned())
        } else if host.contains('*') {
            bail!("invalid allowed host {host}: wildcards are allowed only as subdomains");
        } else if matches!(host.split('/').nth(1), Some(after) if !after.is_empty()) {
            bail!("{entry:?}: CIDR ranges and paths are not supported by the test host");
        } else {
            HostPattern::Exact(host.trim_end_matches('/').to_owned())
        };
        let port = match port {
            "" => {
                let default = scheme.as_deref().and_then(well_known_port);
                PortPattern::Exact(default.ok_or_else(|| {
                    anyhow!("{entry:?}: no port was provided and the scheme {scheme:?} does not have a known default port number")
                })?)
            }
            "*" => PortPattern::Any,
            p => match p.split_once("..") {
                Some((a, b)) => PortPattern::Range(
                    a.parse().with_context(|| format!("port range {p:?} contains non-number"))?,
                    b.parse().with_context(|| format!("port range {p:?} contains non-number"))?,
                ),
                None => PortPattern::Exact(p.parse().with_context(|| format!("port {p:?} is not a number"))?),
            },
        };
        Ok(AllowedHost { scheme, host, port })
    }

    /// Whether a URL the component wants to reach is covered by this entry.
    pub fn allows(&self, url: &str) -> bool {
        let Ok((scheme, host, port)) = split_url(url) else { return false };
        let port = match port {
            Some(p) => match p.parse::<u16>() {
                Ok(p) => p,
                Err(_) => return false,
            },
            None => match well_known_port(&scheme) {
                Some(p) => p,
                None => return false,
            },
        };
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Suffix(suffix) => host.ends_with(&format!(".{suffix}")),
            HostPattern::Exact(h) => *h == host,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Range(a, b) => (a..b).contains(&port),
            PortPattern::Exact(p) => p == port,
        };
        scheme_ok && host_ok && port_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entry: &str, url: &str) -> bool {
        AllowedHost::parse(entry).unwrap().allows(url)
    }

    #[test]
    fn exact_entries() {
        assert!(allowed("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"));
        assert!(allowed("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0"));
        assert!(allowed("redis://127.0.0.1:6379", "redis://:secret@127.0.0.1:6379"));
        assert!(allowed("redis://127.0.0.1", "redis://127.0.0.1:6379"), "default port");
        assert!(!allowed("redis://127.0.0.1:6379", "redis://127.0.0.1:6380"), "wrong port");
        assert!(!allowed("redis://127.0.0.1:6379", "redis://127.0.0.2:6379"), "wrong host");
        assert!(!allowed("redis://127.0.0.1:6379", "rediss://127.0.0.1:6379"), "wrong scheme");
        assert!(!allowed("redis://127.0.0.1:6379", "not a url"));
        assert!(allowed("rediss://127.0.0.1:6380", "rediss://:pw@127.0.0.1:6380"));
        assert!(!allowed("rediss://127.0.0.1:6380", "rediss://127.0.0.1"), "rediss has no default port");
    }

    #[test]
    fn entries_are_split_as_spin_splits_them() {
        // Spin takes everything between `://` and the last `:` as the host: credentials stay in
        // it, so such an entry matches no address.
        assert!(!allowed("redis://:secret@127.0.0.1:6379", "redis://:secret@127.0.0.1:6379"));
        assert!(!allowed("redis://user:secret@127.0.0.1:6379", "redis://127.0.0.1:6379"));
        assert!(AllowedHost::parse("rediss://example.com").is_err(), "rediss has no well-known port");
        assert!(AllowedHost::parse("redis://127.0.0.1:6379/0").is_err(), "a path");
        assert!(AllowedHost::parse("redis://127.0.0.1:6379/").is_ok(), "an empty path");
        assert!(allowed("redis://127.0.0.1/", "redis://127.0.0.1:6379"), "a trailing slash, default port");
        assert!(AllowedHost::parse("127.0.0.1:6379").is_err(), "no scheme");
        assert!(AllowedHost::parse("redis://a*b:6379").is_err());
    }

    #[test]
    fn wildcards() {
        assert!(allowed("redis://*:6379", "redis://example.com:6379"));
        assert!(allowed("*://127.0.0.1:6379", "rediss://127.0.0.1:6379"));
        assert!(allowed("redis://*.example.com:*", "redis://db.example.com:1"));
        assert!(!allowed("redis://*.example.com:*", "redis://example.com:1"));
        assert!(allowed("redis://localhost:6000..7000", "redis://localhost:6999"));
        assert!(!allowed("redis://localhost:6000..7000", "redis://localhost:7000"));
    }
}
