//! Where folio keeps its files, and its log.
//!
//! Logging is off unless asked for: `FOLIO_LOG` (an `EnvFilter` directive such
//! as `debug` or `folio=trace`) or `--log-file PATH` turns it on. Events go to
//! a file, never to the terminal, which belongs to the reader. The file is
//! created only when logging is on. Post content is never logged: paths,
//! sizes, counts and timings only.
//!
//! The file is capped at [`LOG_LIMIT`]: past it, it is renamed `<name>.1`
//! (replacing the one before) and a new one started, so the newest events
//! and the file before them are kept and the two together never take much
//! more than twice the cap. Rotated rather than truncated, so a problem
//! logged just before the cap is not lost with it.
//!
//! Folders come from [`crate::paths`], the one place that knows the
//! platform's conventions (and honours `XDG_*`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use tracing_subscriber::EnvFilter;

use crate::paths::Paths;

/// The environment variable that turns logging on and sets its filter.
pub const LOG_ENV: &str = "FOLIO_LOG";

/// The most a log file holds before it is rotated (see the module doc).
pub const LOG_LIMIT: u64 = 4 << 20;

/// The text `folio --version` prints: the version, then the paths it uses.
pub fn long_version() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let paths = Paths::resolve();
    let (Some(config), Some(themes), Some(data), Some(log)) = (
        paths.config_file(),
        paths.themes_dir(),
        paths.data_dir.clone(),
        paths.log_file(),
    ) else {
        return format!("{version}\n(no home folder: no config, data or log paths)");
    };
    format!(
        "{version}\nconfig file: {}\nthemes: {}\ndata: {}\nlog file: {}",
        config.display(),
        themes.display(),
        data.display(),
        log.display(),
    )
}

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot open log file {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("no log file: there is no home folder; use --log-file PATH")]
    NoHome,
}

/// What [`init`] decided.
#[derive(Debug, Default)]
pub struct Started {
    /// The log file being written, if logging is on.
    pub file: Option<PathBuf>,
    /// A problem worth one line on stderr before the reader starts (an
    /// unparsable `FOLIO_LOG`, which then falls back to `info`).
    pub warning: Option<String>,
}

/// Turns logging on if `FOLIO_LOG` is set (non-empty) or `log_file` is given,
/// and installs a panic hook that logs panics. Does nothing otherwise.
pub fn init(log_file: Option<&Path>) -> Result<Started, LogError> {
    let env = std::env::var(LOG_ENV).ok().filter(|v| !v.trim().is_empty());
    if env.is_none() && log_file.is_none() {
        return Ok(Started::default());
    }
    let mut warning = None;
    let filter = match env {
        Some(directives) => EnvFilter::try_new(&directives).unwrap_or_else(|e| {
            warning = Some(format!(
                "ignoring {LOG_ENV}={directives:?} ({e}); logging at info"
            ));
            EnvFilter::new("info")
        }),
        None => EnvFilter::new("info"),
    };
    let path = match log_file {
        Some(path) => path.to_path_buf(),
        None => Paths::resolve().log_file().ok_or(LogError::NoHome)?,
    };
    let file = Capped::open(&path, LOG_LIMIT).map_err(|source| LogError::Open {
        path: path.clone(),
        source,
    })?;
    // `try_init` fails only if a subscriber is already set (a second call in
    // one process); the first one keeps logging, which is fine.
    let _ = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    install_panic_hook();
    Ok(Started {
        file: Some(path),
        warning,
    })
}

/// Set by systemd when stderr goes to the journal, which stamps every line
/// with its own time.
pub const JOURNAL_ENV: &str = "JOURNAL_STREAM";

/// Logging for `folio serve`, which owns no terminal: always on (`info`
/// unless `FOLIO_LOG` says otherwise), to `log_file` if given, else to
/// stderr, where the person running the server watches it. Under systemd
/// (`JOURNAL_STREAM` set) the lines carry no timestamp: the journal adds
/// its own. Never colour.
pub fn init_server(log_file: Option<&Path>) -> Result<Started, LogError> {
    if log_file.is_some() {
        return init(log_file);
    }
    let mut warning = None;
    let filter = match std::env::var(LOG_ENV).ok().filter(|v| !v.trim().is_empty()) {
        Some(directives) => EnvFilter::try_new(&directives).unwrap_or_else(|e| {
            warning = Some(format!(
                "ignoring {LOG_ENV}={directives:?} ({e}); logging at info"
            ));
            EnvFilter::new("info")
        }),
        None => EnvFilter::new("info"),
    };
    let journal = std::env::var_os(JOURNAL_ENV).is_some_and(|v| !v.is_empty());
    let stderr = tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_ansi(false)
        .with_env_filter(filter);
    let _ = if journal {
        stderr.without_time().try_init()
    } else {
        stderr.try_init()
    };
    install_panic_hook();
    Ok(Started {
        file: None,
        warning,
    })
}

fn open(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// A log file that is rotated when it reaches its limit.
#[derive(Debug)]
pub struct Capped {
    path: PathBuf,
    file: File,
    /// The file's size as far as this process knows.
    written: u64,
    limit: u64,
}

impl Capped {
    /// Opens `path` for appending; a file already past `limit` is rotated
    /// first.
    pub fn open(path: &Path, limit: u64) -> io::Result<Capped> {
        let file = open(path)?;
        let written = file.metadata()?.len();
        let mut capped = Capped {
            path: path.to_path_buf(),
            file,
            written,
            limit,
        };
        if written >= limit {
            capped.rotate()?;
        }
        Ok(capped)
    }

    /// Where the file before this one is kept: `<name>.1`.
    pub fn previous(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".1");
        path.with_file_name(name)
    }

    /// Moves the file to `<name>.1` and starts a new one; if it cannot be
    /// moved (a read-only folder, say), empties it instead, so the cap
    /// holds either way.
    fn rotate(&mut self) -> io::Result<()> {
        match fs::rename(&self.path, Capped::previous(&self.path)).and_then(|()| open(&self.path)) {
            Ok(file) => self.file = file,
            Err(_) => self.file.set_len(0)?,
        }
        self.written = 0;
        Ok(())
    }
}

impl Write for Capped {
    /// tracing writes one event per call, so a rotation falls between
    /// events.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.limit {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Logs a panic, then hands it to the hook that was there before (the
/// default one, which prints the message). The terminal runner installs its
/// own hook later, around this one, so a panic in the reader restores the
/// terminal first, then is logged, then printed.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("unnamed");
            tracing::error!(thread = name, "panic: {info}");
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_rotated_at_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/folio.log");
        let mut log = Capped::open(&path, 1000).unwrap();
        // As tracing writes: one event, one call.
        for i in 0..100 {
            let event = format!("event {i:03} {}\n", "x".repeat(40));
            log.write_all(event.as_bytes()).unwrap();
        }
        log.flush().unwrap();
        let now = fs::read_to_string(&path).unwrap();
        let before = fs::read_to_string(Capped::previous(&path)).unwrap();
        assert!(now.len() <= 1000 && before.len() <= 1000);
        assert!(now.ends_with(&format!("event 099 {}\n", "x".repeat(40))));
        // Whole events on each side: the newest file starts where the one
        // before it ended.
        let first: usize = now[6..9].parse().unwrap();
        let last: usize = before.lines().last().unwrap()[6..9].parse().unwrap();
        assert_eq!(first, last + 1);
        // Reopened past its cap (another run's log), it is rotated first.
        fs::write(&path, "y".repeat(1500)).unwrap();
        let mut log = Capped::open(&path, 1000).unwrap();
        writeln!(log, "fresh").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "fresh\n");
        assert_eq!(
            fs::read_to_string(Capped::previous(&path)).unwrap().len(),
            1500
        );
    }
}
