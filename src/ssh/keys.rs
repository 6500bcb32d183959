//! The server's host key and, in private mode, the keys let in.

use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

use russh::keys::ssh_key::authorized_keys::{ConfigOpts, Entry};
use russh::keys::{Algorithm, HashAlg, PrivateKey, PublicKey};

use super::ServeError;

/// The host key at `path`, generated (Ed25519, mode 0600) if there is no
/// file. An existing file that cannot be read or parsed is an error: a
/// silently replaced host key would make every visitor's ssh warn of an
/// attack, and hide a real problem.
///
/// Several instances may share one key file and start at once: a new key
/// is written whole to a temporary file and then linked into place, which
/// fails if a key got there first; the loser reads the winner's key. So no
/// instance ever sees half a key, and none replaces one.
pub fn host_key(path: &Path) -> Result<(PrivateKey, bool), ServeError> {
    match read_key(path) {
        Err(ServeError::ReadKey { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        read => return read.map(|key| (key, false)),
    }
    let write = |source| ServeError::WriteKey {
        path: path.to_path_buf(),
        source,
    };
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| write(io::Error::other(e.to_string())))?;
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map_err(|e| write(io::Error::other(e.to_string())))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent).map_err(write)?;
    }
    match publish_private_file(path, text.as_bytes()) {
        Ok(()) => Ok((key, true)),
        // Another instance made one meanwhile: that is the key.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_key(path).map(|k| (k, false)),
        Err(e) => Err(write(e)),
    }
}

fn read_key(path: &Path) -> Result<PrivateKey, ServeError> {
    let bytes = std::fs::read(path).map_err(|source| ServeError::ReadKey {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |reason: String| ServeError::BadKey {
        path: path.to_path_buf(),
        reason,
    };
    let key = PrivateKey::from_openssh(&bytes).map_err(|e| bad(e.to_string()))?;
    if key.is_encrypted() {
        return Err(bad("it is encrypted".into()));
    }
    Ok(key)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Writes `bytes` (mode 0600) to a temporary file beside `path`, syncs it,
/// and hard-links it to `path`: the link appears whole or not at all, and
/// fails with `AlreadyExists` rather than replace a file.
fn publish_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let linked = options
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    linked?;
    // The new name survives a crash only once the folder is synced.
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The fingerprint ssh shows for a key: `SHA256:…`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// A key of private mode, with what its `authorized_keys` options ask.
#[derive(Debug, Clone)]
pub struct AuthorizedKey {
    pub key: PublicKey,
    /// `from="…"`: the addresses it may log in from.
    from: Option<String>,
}

impl AuthorizedKey {
    /// Whether this key may log in from `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.from.as_deref().is_none_or(|p| from_matches(p, ip))
    }
}

/// The keys of private mode, and the lines refused, each with why.
#[derive(Debug, Clone, Default)]
pub struct AuthorizedKeys {
    pub keys: Vec<AuthorizedKey>,
    pub refused: Vec<String>,
}

impl AuthorizedKeys {
    /// Whether `key` may log in from `ip`.
    pub fn allows(&self, key: &PublicKey, ip: IpAddr) -> Allowed {
        let mut listed = false;
        for k in self
            .keys
            .iter()
            .filter(|k| k.key.key_data() == key.key_data())
        {
            listed = true;
            if k.allows(ip) {
                return Allowed::Yes;
            }
        }
        if listed {
            Allowed::NotFrom
        } else {
            Allowed::NotListed
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What [`AuthorizedKeys::allows`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    Yes,
    NotListed,
    /// Listed, but with a `from=` that leaves this address out.
    NotFrom,
}

/// Options that restrict what folio never does anyway (forwarding, X11,
/// agents, `~/.ssh/rc`, tunnels), or that permit it (folio still does not):
/// honoured by being what folio is.
const NOTHING_TO_DO: [&str; 14] = [
    "restrict",
    "no-port-forwarding",
    "no-agent-forwarding",
    "no-x11-forwarding",
    "no-user-rc",
    "port-forwarding",
    "agent-forwarding",
    "x11-forwarding",
    "user-rc",
    "pty",
    "no-touch-required",
    "permitopen",
    "permitlisten",
    "tunnel",
];

/// Reads an `authorized_keys` file with `ssh-key`'s parser: one key per
/// line, `#` comments, options before the key type. `from=` is honoured
/// (host patterns and CIDR, `!` to exclude, as sshd reads them, without
/// DNS: a name never matches); a key with an option folio cannot honour
/// (`command=`, `no-pty`, `cert-authority`, `expiry-time=`, …) is left out
/// and listed in `refused` with why. A line that is not a key at all is an
/// error.
pub fn authorized_keys(path: &Path) -> Result<AuthorizedKeys, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServeError::ReadAuthorized {
        path: path.to_path_buf(),
        source,
    })?;
    let mut found = AuthorizedKeys::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: String| ServeError::BadAuthorized {
            path: path.to_path_buf(),
            line: i + 1,
            reason,
        };
        let (options, key) = match Entry::from_str(line) {
            Ok(entry) => (entry.config_opts().clone(), entry.public_key().clone()),
            // ssh-key reads `options type key` only with a comment after
            // it: split off the options here, outside quotes, and try again.
            Err(first) => {
                let (options, rest) = split_options(line).ok_or_else(|| bad(first.to_string()))?;
                let key = PublicKey::from_openssh(rest.trim_start())
                    .map_err(|_| bad(first.to_string()))?;
                match ConfigOpts::new(options) {
                    Ok(options) => (options, key),
                    Err(e) => {
                        found.refused.push(format!(
                            "{}:{}: key {} left out: options folio cannot read ({e})",
                            path.display(),
                            i + 1,
                            fingerprint(&key)
                        ));
                        continue;
                    }
                }
            }
        };
        match honour(&options) {
            Ok(from) => found.keys.push(AuthorizedKey { key, from }),
            Err(why) => found.refused.push(format!(
                "{}:{}: key {} left out: {why}",
                path.display(),
                i + 1,
                fingerprint(&key)
            )),
        }
    }
    Ok(found)
}

/// `options rest` at the first blank outside quotes.
fn split_options(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (at, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return Some((&line[..at], &line[at..])),
            _ => {}
        }
    }
    None
}

/// The `from=` patterns of a key's options, or why folio cannot honour
/// them.
fn honour(options: &ConfigOpts) -> Result<Option<String>, String> {
    let mut from = None;
    for option in options.iter() {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        let name = name.to_ascii_lowercase();
        match (name.as_str(), value) {
            ("from", Some(value)) => {
                let patterns = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or("from= without quotes")?;
                if from.is_some() {
                    return Err("from= given twice".into());
                }
                from = Some(patterns.to_owned());
            }
            ("command", _) => {
                return Err("command= forces a command, and folio runs none".into());
            }
            ("no-pty", None) => return Err("no-pty: folio is a reader and needs a terminal".into()),
            (n, _) if NOTHING_TO_DO.contains(&n) => {}
            _ => {
                let shown: String = name.chars().take(32).collect();
                return Err(format!("the option {shown} is not one folio can honour"));
            }
        }
    }
    Ok(from)
}

/// Whether `ip` matches a `from=` pattern list as sshd matches it with
/// `UseDNS no`: the address is the only name there is. Any pattern that
/// matches with `!` refuses; otherwise one plain match admits. A pattern
/// sshd cannot read either (a bad CIDR) refuses.
pub fn from_matches(patterns: &str, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    };
    let text = ip.to_string();
    let mut matched = false;
    for pattern in patterns.split(',') {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        let hit = if let Some((net, bits)) = pattern.split_once('/') {
            match cidr_contains(net, bits, ip) {
                Some(hit) => hit,
                None => return false,
            }
        } else {
            wildcard(&pattern.to_ascii_lowercase(), &text)
        };
        if hit && negated {
            return false;
        }
        matched |= hit;
    }
    matched
}

/// Whether `ip` is in `net/bits`; `None` when that is no network.
fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> Option<bool> {
    let net: IpAddr = net.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    Some(match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            if bits > 32 {
                return None;
            }
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            if u32::from(net) & !mask != 0 {
                return None;
            }
            u32::from(ip) & mask == u32::from(net)
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            if bits > 128 {
                return None;
            }
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            if u128::from(net) & !mask != 0 {
                return None;
            }
            u128::from(ip) & mask == u128::from(net)
        }
        _ => false,
    })
}

/// sshd's `*` and `?` wildcards, iteratively (a pattern of many stars must
/// not recurse or backtrack without end).
fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/folio/key");
        let (key, created) = host_key(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = host_key(&path).unwrap();
        assert!(!created);
        assert_eq!(
            fingerprint(key.public_key()),
            fingerprint(again.public_key())
        );
        assert!(fingerprint(key.public_key()).starts_with("SHA256:"));
    }

    #[test]
    fn instances_starting_at_once_share_one_whole_key() {
        // Threads racing to create the key, as instances of one blog do on
        // their first start: every one gets the same key, one made it.
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("state/key");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let racers: Vec<_> = (0..8)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        let (key, created) = host_key(&path).unwrap();
                        (fingerprint(key.public_key()), created)
                    })
                })
                .collect();
            let got: Vec<_> = racers.into_iter().map(|t| t.join().unwrap()).collect();
            assert!(got.iter().all(|(f, _)| *f == got[0].0), "{got:?}");
            assert_eq!(got.iter().filter(|(_, created)| *created).count(), 1);
            // Nothing left beside it but the key.
            let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, ["key"]);
        }
    }

    #[test]
    fn a_corrupt_host_key_is_an_error_and_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "not a key").unwrap();
        let err = host_key(&path).unwrap_err().to_string();
        assert!(err.contains("not a usable OpenSSH private key"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = dir.path().join("locked");
            std::fs::create_dir(&dir).unwrap();
            let locked = dir.join("key");
            std::fs::write(&locked, "x").unwrap();
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
            // Root reads anything; the check only means something otherwise.
            if std::fs::read(&locked).is_err() {
                assert!(matches!(host_key(&locked), Err(ServeError::ReadKey { .. })));
            }
        }
    }

    #[test]
    fn authorized_keys_with_options_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = host_key(&dir.path().join("k")).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        let path = dir.path().join("authorized_keys");
        std::fs::write(
            &path,
            format!(
                "# readers\n\n{public} me@laptop\nno-port-forwarding,from=\"10.0.0.1\" {public}\n"
            ),
        )
        .unwrap();
        let keys = authorized_keys(&path).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys.refused.is_empty(), "{:?}", keys.refused);
        std::fs::write(&path, format!("{public}\nssh-ed25519 garbage\n")).unwrap();
        let err = authorized_keys(&path).unwrap_err().to_string();
        assert!(err.contains(":2: not a public key"), "{err}");
    }

    #[test]
    fn from_patterns_as_sshd_reads_them() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let here = ip("127.0.0.1");
        assert!(!from_matches("10.0.0.0/8", here));
        assert!(from_matches("10.0.0.0/8,127.0.0.0/8", here));
        assert!(from_matches("127.0.0.*", here));
        assert!(from_matches("127.?.0.1", here));
        assert!(!from_matches("127.0.0.2", here));
        assert!(from_matches("127.0.0.1", ip("::ffff:127.0.0.1")));
        // A negated match refuses, whatever else matches.
        assert!(!from_matches("127.0.0.0/8,!127.0.0.1", here));
        assert!(from_matches("127.0.0.0/8,!127.0.0.2", here));
        assert!(
            !from_matches("!10.0.0.1", here),
            "only exclusions admit nobody"
        );
        // No DNS: a name never matches; a bad network refuses.
        assert!(!from_matches("localhost", here));
        assert!(!from_matches("127.0.0.1/8,127.0.0.1", here));
        assert!(!from_matches("127.0.0.0/33", here));
        assert!(from_matches("2001:db8::/32", ip("2001:db8::7")));
        assert!(!from_matches("2001:db8::/32", here));
        assert!(!from_matches(&"*".repeat(10_000).replace("**", "*?"), here));
    }

    #[test]
    fn options_folio_cannot_honour_leave_the_key_out() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = host_key(&dir.path().join("k")).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        let path = dir.path().join("authorized_keys");
        let lines = [
            format!("from=\"10.0.0.0/8\" {public}"),
            format!("restrict,from=\"127.0.0.0/8\" {public} me"),
            format!("command=\"ls\" {public}"),
            format!("no-pty {public}"),
            format!("cert-authority {public}"),
            format!("environment=\"A=b\" {public}"),
            format!("command=\"ls -l\" {public} with spaces"),
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let keys = authorized_keys(&path).unwrap();
        assert_eq!(keys.len(), 2, "{:?}", keys.refused);
        assert_eq!(keys.refused.len(), 5, "{:?}", keys.refused);
        assert!(
            keys.refused[0].contains(":3: key SHA256:"),
            "{:?}",
            keys.refused
        );
        assert!(keys.refused[0].contains("runs none"), "{:?}", keys.refused);
        assert!(keys.refused[1].contains("needs a terminal"));
        assert!(keys.refused[2].contains("cert-authority"));
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let there: IpAddr = "10.1.2.3".parse().unwrap();
        let elsewhere: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(keys.allows(key.public_key(), here), Allowed::Yes);
        assert_eq!(keys.allows(key.public_key(), there), Allowed::Yes);
        assert_eq!(keys.allows(key.public_key(), elsewhere), Allowed::NotFrom);
        let (other, _) = host_key(&dir.path().join("other")).unwrap();
        assert_eq!(keys.allows(other.public_key(), here), Allowed::NotListed);
    }
}
