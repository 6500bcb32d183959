//! Where folio keeps its files, and its log.
//!
//! Logging is off unless asked for: `FOLIO_LOG` (an `EnvFilter` directive such
//! as `debug` or `folio=trace`) or `--log-file PATH` turns it on. Events go to
//! a file, never to the terminal, which belongs to the reader. The file is
//! created only when logging is on. Post content is never logged: paths,
//! sizes, counts and timings only.
//!
//! Folders come from [`crate::paths`], the one place that knows the
//! platform's conventions (and honours `XDG_*`).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use tracing_subscriber::EnvFilter;

use crate::paths::Paths;

/// The environment variable that turns logging on and sets its filter.
pub const LOG_ENV: &str = "FOLIO_LOG";

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
    let file = open(&path).map_err(|source| LogError::Open {
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

/// Logging for `folio serve`, which owns no terminal: always on (`info`
/// unless `FOLIO_LOG` says otherwise), to `log_file` if given, else to
/// stderr, where the person running the server watches it.
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
    let _ = tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
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
