//! Where folio's files live, resolved once: `directories`' `ProjectDirs`, so
//! `$XDG_CONFIG_HOME/folio` and friends on Linux, the platform's usual
//! places elsewhere.

use std::path::PathBuf;

use directories::ProjectDirs;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paths {
    /// `config.yaml` and `themes/` live here.
    pub config_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
}

impl Paths {
    /// The platform's folders for folio; all `None` when there is no home
    /// to put them in.
    pub fn resolve() -> Paths {
        ProjectDirs::from("", "", "folio").map_or_else(Paths::default, |dirs| Paths {
            config_dir: Some(dirs.config_dir().to_owned()),
            data_dir: Some(dirs.data_dir().to_owned()),
            cache_dir: Some(dirs.cache_dir().to_owned()),
        })
    }

    pub fn config_file(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|d| d.join("config.yaml"))
    }

    /// User themes: `NAME.yaml`, and any `.tmTheme` files they name.
    pub fn themes_dir(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|d| d.join("themes"))
    }

    /// Reading state: positions and read marks (see [`crate::state`]).
    pub fn state_file(&self) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|d| d.join("state.yaml"))
    }

    /// The default log file, used when `--log-file` is not given. In the
    /// cache folder: macOS and Windows have no state folder.
    pub fn log_file(&self) -> Option<PathBuf> {
        self.cache_dir.as_ref().map(|d| d.join("folio.log"))
    }
}
