//! The configuration file, `config.yaml`: read key by key, so one broken
//! value costs only that key (it keeps its default) and the rest still
//! applies. A missing file is the normal case and says nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::action::Command;
use crate::color::ColorChoice;
use crate::keymap::Keymap;
use crate::limits::Limits;
use crate::ssh::Trusted;
use crate::theme::{self, AUTO};

/// The narrowest reading measure that still makes sense.
pub const MIN_MAX_WIDTH: u16 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The folder read when folio is given no path.
    pub posts: Option<PathBuf>,
    /// A theme name, or `auto` for light or dark after the terminal.
    pub theme: String,
    pub color: ColorChoice,
    /// The widest the reader's text gets.
    pub max_width: u16,
    pub mouse: bool,
    /// Long code lines wrap (`↪`) rather than run off the edge.
    pub wrap_code: bool,
    /// Links are real hyperlinks (OSC 8) in terminals that show them.
    pub hyperlinks: bool,
    /// Pictures in posts: `auto` (half blocks when colour is on),
    /// `halfblocks`, `kitty`, `iterm2`, `sixel` or `off`.
    pub images: crate::picture::Images,
    /// Pictures from `http(s)` URLs are fetched. Off by default: fetching
    /// tells a picture's server what you read. Never over `folio serve`.
    pub remote_images: bool,
    /// Remapped commands: action name to keys, as written.
    pub keys: BTreeMap<String, Vec<String>>,
    /// `folio serve`'s settings.
    pub serve: Serve,
}

/// The `serve:` section: where `folio serve` listens and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serve {
    pub listen: String,
    /// `None`: `<data dir>/folio/ssh_host_ed25519_key`.
    pub host_key: Option<PathBuf>,
    /// Private mode when set: only these keys get in.
    pub authorized_keys: Option<PathBuf>,
    pub limits: Limits,
    /// Load balancers that send a PROXY header (empty: none).
    pub proxy_protocol: Trusted,
    /// Where the server writes its figures as JSON.
    pub status_file: Option<PathBuf>,
}

impl Default for Serve {
    fn default() -> Self {
        Serve {
            listen: "127.0.0.1:2222".into(),
            host_key: None,
            authorized_keys: None,
            limits: Limits::default(),
            proxy_protocol: Trusted::default(),
            status_file: None,
        }
    }
}

const SERVE_KEYS: [&str; 17] = [
    "listen",
    "proxy_protocol",
    "status_file",
    "host_key",
    "authorized_keys",
    "max_sessions",
    "max_startups",
    "startups_drop_from",
    "max_per_ip",
    "max_per_network",
    "connects_per_minute",
    "network_connects_per_minute",
    "handshake_timeout",
    "session_open_timeout",
    "idle_timeout",
    "max_session_time",
    "screen_cells",
];

impl Default for Config {
    fn default() -> Self {
        Config {
            posts: None,
            theme: AUTO.to_owned(),
            color: ColorChoice::Auto,
            max_width: 100,
            mouse: true,
            wrap_code: true,
            hyperlinks: true,
            images: crate::picture::Images::Auto,
            remote_images: false,
            keys: BTreeMap::new(),
            serve: Serve::default(),
        }
    }
}

const KEYS: [&str; 11] = [
    "posts",
    "theme",
    "color",
    "max_width",
    "mouse",
    "wrap_code",
    "hyperlinks",
    "images",
    "remote_images",
    "keys",
    "serve",
];

impl Config {
    /// Reads `path`. A missing file gives the defaults and no messages;
    /// anything wrong gives a message naming the file, the line and the key.
    pub fn load(path: &Path) -> (Config, Vec<String>) {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), Vec::new()),
            Err(e) => (
                Config::default(),
                vec![format!("{}: {e}; using the defaults", path.display())],
            ),
        }
    }

    /// Parses a config file's text; `label` names it in messages.
    pub fn parse(text: &str, label: &str) -> (Config, Vec<String>) {
        let mut config = Config::default();
        let mut problems = Vec::new();
        let map = match serde_yaml::from_str::<Value>(text) {
            Ok(Value::Mapping(m)) => m,
            Ok(Value::Null) => return (config, problems),
            Ok(_) => {
                problems.push(format!(
                    "{label}:1: expected `key: value` lines; using the defaults"
                ));
                return (config, problems);
            }
            Err(e) => {
                let at = e
                    .location()
                    .map_or(String::new(), |l| format!(":{}", l.line()));
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg);
                problems.push(format!("{label}{at}: {msg}; using the defaults"));
                return (config, problems);
            }
        };
        let at = |key: &str| {
            theme::key_line(text, &[key])
                .map_or_else(|| label.to_owned(), |l| format!("{label}:{l}"))
        };
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                problems.push(format!("{label}: {k:?} is not a key; ignored"));
                continue;
            };
            let mut bad = |what: String| {
                problems.push(format!("{}: {key}: {what}; using the default", at(key)));
            };
            match key {
                "posts" => match get::<Option<PathBuf>>(&v) {
                    Ok(p) => config.posts = p.map(expand_home),
                    Err(e) => bad(e),
                },
                "theme" => match get::<String>(&v) {
                    Ok(t) => config.theme = t,
                    Err(e) => bad(e),
                },
                "color" => match scalar(&v).as_deref().and_then(ColorChoice::parse) {
                    Some(c) => config.color = c,
                    None => bad(format!("must be one of {}", ColorChoice::NAMES.join(", "))),
                },
                "max_width" => match get::<u16>(&v) {
                    Ok(w) if w >= MIN_MAX_WIDTH => config.max_width = w,
                    Ok(_) | Err(_) => bad(format!(
                        "must be a number of columns from {MIN_MAX_WIDTH} to 65535"
                    )),
                },
                "mouse" => match get::<bool>(&v) {
                    Ok(b) => config.mouse = b,
                    Err(e) => bad(e),
                },
                "hyperlinks" => match get::<bool>(&v) {
                    Ok(b) => config.hyperlinks = b,
                    Err(e) => bad(e),
                },
                "wrap_code" => match get::<bool>(&v) {
                    Ok(b) => config.wrap_code = b,
                    Err(e) => bad(e),
                },
                "images" => match get::<String>(&v)
                    .ok()
                    .and_then(|s| crate::picture::Images::parse(&s))
                {
                    Some(i) => config.images = i,
                    None => bad("must be auto, halfblocks, kitty, iterm2, sixel or off".into()),
                },
                "remote_images" => match get::<bool>(&v) {
                    Ok(b) => config.remote_images = b,
                    Err(e) => bad(e),
                },
                "keys" => match get::<BTreeMap<String, OneOrMany>>(&v) {
                    Ok(keys) => {
                        config.keys = keys.into_iter().map(|(k, v)| (k, v.into_vec())).collect();
                    }
                    Err(e) => bad(format!("{e} (write e.g. `next_heading: [']', n]`)")),
                },
                "serve" => match v {
                    Value::Mapping(m) => parse_serve(&m, &mut config.serve, &mut |k, what| {
                        problems.push(format!(
                            "{}: serve.{k}: {what}",
                            theme::key_line(text, &["serve", k])
                                .map_or_else(|| label.to_owned(), |l| format!("{label}:{l}"))
                        ));
                    }),
                    _ => bad("must be a section of `key: value` lines".into()),
                },
                _ => problems.push(format!(
                    "{}: {key}: unknown key, ignored (known: {})",
                    at(key),
                    KEYS.join(", ")
                )),
            }
        }
        (config, problems)
    }

    /// The configuration as YAML, every key present, so `--print-config`
    /// gives a file to start from. `keymap` is the effective one.
    pub fn to_yaml(&self, keymap: &Keymap) -> String {
        let mut out = String::from(
            "# folio's effective configuration: defaults, then config.yaml, then\n\
             # FOLIO_THEME / FOLIO_POSTS, then command-line flags.\n",
        );
        let posts = self
            .posts
            .as_ref()
            .map_or_else(|| "null".to_owned(), |p| quote(&p.to_string_lossy()));
        let _ = writeln!(out, "posts: {posts}");
        let _ = writeln!(out, "theme: {}", quote(&self.theme));
        let _ = writeln!(out, "color: {}", quote(self.color.name()));
        let _ = writeln!(out, "max_width: {}", self.max_width);
        let _ = writeln!(out, "mouse: {}", self.mouse);
        let _ = writeln!(out, "wrap_code: {}", self.wrap_code);
        let _ = writeln!(out, "hyperlinks: {}", self.hyperlinks);
        let _ = writeln!(out, "images: {}", self.images.name());
        let _ = writeln!(out, "remote_images: {}", self.remote_images);
        let serve = &self.serve;
        let limits = &serve.limits;
        let opt = |p: &Option<PathBuf>| {
            p.as_ref()
                .map_or_else(|| "null".to_owned(), |p| quote(&p.to_string_lossy()))
        };
        let _ = writeln!(out, "serve:");
        let _ = writeln!(out, "  listen: {}", quote(&serve.listen));
        let _ = writeln!(out, "  host_key: {}", opt(&serve.host_key));
        let _ = writeln!(out, "  authorized_keys: {}", opt(&serve.authorized_keys));
        let trusted = serve.proxy_protocol.to_string();
        let trusted: Vec<String> = trusted
            .split(", ")
            .filter(|s| !s.is_empty())
            .map(quote)
            .collect();
        let _ = writeln!(out, "  proxy_protocol: [{}]", trusted.join(", "));
        let _ = writeln!(out, "  status_file: {}", opt(&serve.status_file));
        let _ = writeln!(out, "  max_sessions: {}", limits.max_sessions);
        let _ = writeln!(out, "  max_startups: {}", limits.max_startups);
        let _ = writeln!(out, "  startups_drop_from: {}", limits.startups_drop_from);
        let _ = writeln!(out, "  max_per_ip: {}", limits.max_per_ip);
        let _ = writeln!(out, "  max_per_network: {}", limits.max_per_network);
        let _ = writeln!(out, "  connects_per_minute: {}", limits.connects_per_minute);
        let _ = writeln!(
            out,
            "  network_connects_per_minute: {}",
            limits.network_connects_per_minute
        );
        let _ = writeln!(
            out,
            "  handshake_timeout: {}",
            limits.handshake_timeout.as_secs()
        );
        let _ = writeln!(
            out,
            "  session_open_timeout: {}",
            limits.session_open_timeout.as_secs()
        );
        let _ = writeln!(out, "  screen_cells: {}", limits.screen_cells);
        let _ = writeln!(out, "  idle_timeout: {}", limits.idle_timeout.as_secs());
        let _ = writeln!(
            out,
            "  max_session_time: {}",
            limits.max_session_time.as_secs()
        );
        out.push_str("keys:\n");
        for cmd in Command::ALL {
            let keys: Vec<String> = keymap.keys_for(cmd).map(|k| quote(&k.notation())).collect();
            let _ = writeln!(out, "  {}: [{}]", cmd.name(), keys.join(", "));
        }
        out
    }
}

/// Reads the `serve:` section into `serve`; `bad(key, what)` reports.
fn parse_serve(map: &serde_yaml::Mapping, serve: &mut Serve, bad: &mut dyn FnMut(&str, String)) {
    let secs = |v: &Value| {
        get::<u64>(v)
            .ok()
            .filter(|&s| s > 0)
            .map(Duration::from_secs)
    };
    let count = |v: &Value| get::<usize>(v).ok().filter(|&n| n > 0);
    for (k, v) in map {
        let Some(key) = k.as_str() else { continue };
        let ok = match key {
            "listen" => get::<String>(v).map(|s| serve.listen = s).is_ok(),
            "host_key" => get::<Option<PathBuf>>(v)
                .map(|p| serve.host_key = p.map(expand_home))
                .is_ok(),
            "authorized_keys" => get::<Option<PathBuf>>(v)
                .map(|p| serve.authorized_keys = p.map(expand_home))
                .is_ok(),
            "status_file" => get::<Option<PathBuf>>(v)
                .map(|p| serve.status_file = p.map(expand_home))
                .is_ok(),
            "proxy_protocol" => match get::<Option<OneOrMany>>(v) {
                Ok(list) => {
                    let list = list.map(OneOrMany::into_vec).unwrap_or_default();
                    match list
                        .iter()
                        .map(|s| Trusted::parse(s))
                        .collect::<Result<Vec<_>, _>>()
                    {
                        Ok(lists) => {
                            let mut trusted = Trusted::default();
                            for l in lists {
                                trusted.extend(l);
                            }
                            serve.proxy_protocol = trusted;
                        }
                        Err(e) => {
                            bad(key, format!("{e}; no balancer is trusted"));
                        }
                    }
                    true
                }
                Err(_) => false,
            },
            "max_sessions" => count(v).map(|n| serve.limits.max_sessions = n).is_some(),
            "max_startups" => count(v).map(|n| serve.limits.max_startups = n).is_some(),
            "startups_drop_from" => count(v)
                .map(|n| serve.limits.startups_drop_from = n)
                .is_some(),
            "max_per_ip" => count(v).map(|n| serve.limits.max_per_ip = n).is_some(),
            "max_per_network" => count(v).map(|n| serve.limits.max_per_network = n).is_some(),
            "connects_per_minute" => count(v)
                .map(|n| serve.limits.connects_per_minute = n)
                .is_some(),
            "network_connects_per_minute" => count(v)
                .map(|n| serve.limits.network_connects_per_minute = n)
                .is_some(),
            "handshake_timeout" => secs(v)
                .map(|d| serve.limits.handshake_timeout = d)
                .is_some(),
            "session_open_timeout" => secs(v)
                .map(|d| serve.limits.session_open_timeout = d)
                .is_some(),
            "screen_cells" => count(v).map(|n| serve.limits.screen_cells = n).is_some(),
            "idle_timeout" => secs(v).map(|d| serve.limits.idle_timeout = d).is_some(),
            "max_session_time" => secs(v).map(|d| serve.limits.max_session_time = d).is_some(),
            _ => {
                bad(
                    key,
                    format!("unknown key, ignored (known: {})", SERVE_KEYS.join(", ")),
                );
                continue;
            }
        };
        if !ok {
            let what = match key {
                "listen" | "host_key" | "authorized_keys" | "status_file" => "must be text",
                "proxy_protocol" => "must be an address or a list of them",
                "handshake_timeout"
                | "session_open_timeout"
                | "idle_timeout"
                | "max_session_time" => "must be a number of seconds above 0",
                _ => "must be a number above 0",
            };
            bad(key, format!("{what}; using the default"));
        }
    }
}

/// A YAML single-quoted string: safe for any key notation (`]`, `?`, `'`).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A scalar as text: `color: 256` is a number to YAML.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn get<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    serde_yaml::from_value(v.clone()).map_err(|e| e.to_string())
}

/// `next_heading: n` as well as `next_heading: [n, ']']`.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// `~/blog` as people write it in config files.
fn expand_home(p: PathBuf) -> PathBuf {
    match (p.strip_prefix("~"), directories::BaseDirs::new()) {
        (Ok(rest), Some(base)) => base.home_dir().join(rest),
        _ => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_full() {
        assert_eq!(Config::parse("", "c"), (Config::default(), vec![]));
        let (c, problems) = Config::parse(
            "posts: /srv/blog\ntheme: warm\ncolor: 256\nmax_width: 80\nmouse: false\nwrap_code: true\nkeys:\n  next_heading: [']', n]\n  quit: x\n",
            "c",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.posts, Some(PathBuf::from("/srv/blog")));
        assert_eq!(c.theme, "warm");
        assert_eq!(c.color, ColorChoice::Ansi256);
        assert_eq!(c.max_width, 80);
        assert!(!c.mouse);
        assert_eq!(c.keys["next_heading"], ["]", "n"]);
        assert_eq!(c.keys["quit"], ["x"]);
    }

    #[test]
    fn serve_section() {
        let (c, problems) = Config::parse(
            "serve:\n  listen: 0.0.0.0:22\n  max_per_ip: 2\n  idle_timeout: 60\n  authorized_keys: /etc/folio/keys\n",
            "c",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.serve.listen, "0.0.0.0:22");
        assert_eq!(c.serve.limits.max_per_ip, 2);
        assert_eq!(c.serve.limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(
            c.serve.authorized_keys,
            Some(PathBuf::from("/etc/folio/keys"))
        );
        assert_eq!(c.serve.limits.max_sessions, Limits::default().max_sessions);
        let (c, problems) = Config::parse(
            "serve:\n  max_sessions: 0\n  idle_timeout: soon\n  port: 22\n",
            "config.yaml",
        );
        assert_eq!(c.serve, Serve::default());
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("config.yaml:2: serve.max_sessions: must be a number"),
            "{problems:?}"
        );
        assert!(
            problems[2].contains("serve.port: unknown key"),
            "{problems:?}"
        );
    }

    #[test]
    fn serve_behind_a_balancer() {
        let (c, problems) = Config::parse(
            "serve:\n  proxy_protocol: [10.0.0.0/8, '192.0.2.1, 192.0.2.2']\n  status_file: /run/folio/status.json\n",
            "c",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let trusted = &c.serve.proxy_protocol;
        assert!(trusted.contains("10.9.9.9".parse().unwrap()));
        assert!(trusted.contains("192.0.2.2".parse().unwrap()));
        assert!(!trusted.contains("192.0.2.3".parse().unwrap()));
        assert_eq!(
            c.serve.status_file,
            Some(PathBuf::from("/run/folio/status.json"))
        );
        let (c, problems) = Config::parse("serve:\n  proxy_protocol: 127.0.0.1\n", "c");
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            c.serve
                .proxy_protocol
                .contains("127.0.0.1".parse().unwrap())
        );
        // A typo trusts nobody, rather than somebody else.
        let (c, problems) = Config::parse("serve:\n  proxy_protocol: 10.0.0.1/8\n", "c.yaml");
        assert!(c.serve.proxy_protocol.is_empty());
        assert!(problems[0].contains("host bits set"), "{problems:?}");
        // Printed and read back.
        let (c, _) = Config::parse("serve:\n  proxy_protocol: [10.0.0.0/8, ::1]\n", "c");
        let (back, problems) = Config::parse(&c.to_yaml(&Keymap::default()), "printed");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back.serve, c.serve);
    }

    #[test]
    fn broken_keys_keep_their_defaults() {
        let (c, problems) = Config::parse(
            "theme: light\nmax_width: wide\ncolor: sometimes\nmouse: 3\nfancy: yes\n",
            "config.yaml",
        );
        assert_eq!(c.theme, "light");
        assert_eq!(c.max_width, 100);
        assert_eq!(c.color, ColorChoice::Auto);
        assert!(c.mouse);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems[0].starts_with("config.yaml:2: max_width:"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("config.yaml:3: color: must be one of"),
            "{problems:?}"
        );
        assert!(
            problems[2].starts_with("config.yaml:4: mouse:"),
            "{problems:?}"
        );
        assert!(
            problems[3].starts_with("config.yaml:5: fancy: unknown key"),
            "{problems:?}"
        );
    }

    #[test]
    fn broken_file_gives_defaults_and_a_line() {
        let (c, problems) = Config::parse("theme: warm\nkeys: [unclosed\n", "config.yaml");
        assert_eq!(c, Config::default());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("config.yaml:3:"), "{problems:?}");
        let (c, problems) = Config::parse("- a list\n", "config.yaml");
        assert_eq!(c, Config::default());
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn printed_config_reads_back() {
        let c = Config {
            theme: "it's".into(),
            ..Config::default()
        };
        let (map, _) = Keymap::default().with_overrides(&BTreeMap::from([(
            "next_heading".to_owned(),
            vec!["x".to_owned(), "]".to_owned()],
        )]));
        let yaml = c.to_yaml(&map);
        let (back, problems) = Config::parse(&yaml, "printed");
        assert!(problems.is_empty(), "{problems:?}\n{yaml}");
        assert_eq!(back.theme, "it's");
        assert_eq!(back.serve, c.serve);
        assert_eq!(back.keys["next_heading"], ["x", "]"]);
        let (again, problems) = Keymap::default().with_overrides(&back.keys);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(again, map.clone().with_overrides(&back.keys).0);
    }
}
