//! The programs the end-to-end tests drive (tmux, the OpenSSH client, the
//! kill program). On a machine without one, the tests that need it are
//! skipped and say so; with `FOLIO_E2E=require` (as `.ci/run` sets, after
//! installing them) a missing program fails those tests instead. So a
//! newcomer's `cargo test` passes with Rust alone, and CI runs everything.
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::Write;
use std::sync::Mutex;

/// The variable that turns a skip into a failure: `FOLIO_E2E=require`.
pub const REQUIRE_ENV: &str = "FOLIO_E2E";

/// Whether `program` is an executable file in a folder of `PATH`.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// What a test does when `missing` programs are not installed: `Ok(true)`
/// to run (nothing missing), `Ok(false)` to skip, `Err` (why) to fail,
/// after the value of `FOLIO_E2E`.
pub fn decide(missing: &[&str], require: Option<&str>) -> Result<bool, String> {
    if missing.is_empty() {
        return Ok(true);
    }
    match require {
        Some("require") => Err(format!(
            "{REQUIRE_ENV}=require and {} not installed (on PATH)",
            names(missing)
        )),
        _ => Ok(false),
    }
}

fn names(missing: &[&str]) -> String {
    match missing {
        [one] => format!("{one} is"),
        more => format!("{} are", more.join(", ")),
    }
}

/// True when every program in `programs` is installed and the test should
/// go on. When one is missing the test is to return at once: this says so
/// on the terminal (once per program and test binary, past the test
/// harness's capture), or panics under `FOLIO_E2E=require`.
pub fn have(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| !on_path(p)).collect();
    let require = std::env::var(REQUIRE_ENV).ok();
    match decide(&missing, require.as_deref()) {
        Ok(true) => true,
        Ok(false) => {
            static SAID: Mutex<Option<HashSet<String>>> = Mutex::new(None);
            let mut said = SAID
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let said = said.get_or_insert_with(HashSet::new);
            let new: Vec<&str> = missing
                .iter()
                .copied()
                .filter(|m| said.insert((*m).to_owned()))
                .collect();
            if !new.is_empty() {
                let binary = std::env::current_exe()
                    .ok()
                    .and_then(|e| e.file_stem().map(|s| s.to_string_lossy().into_owned()))
                    .map(|s| {
                        s.rsplit_once('-')
                            .map_or(s.clone(), |(name, _)| name.to_owned())
                    })
                    .unwrap_or_default();
                // Straight to the terminal: libtest keeps what a passing
                // test prints with `eprintln!`.
                let _ = writeln!(
                    std::io::stderr(),
                    "tests/{binary}: SKIPPED the tests that need {}: {} not installed \
                     ({REQUIRE_ENV}=require makes this a failure)",
                    new.join(", "),
                    names(&new)
                );
            }
            false
        }
        Err(why) => panic!("{why}"),
    }
}
