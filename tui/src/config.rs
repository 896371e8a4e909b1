//! What the client remembers between runs: the server, the username and the token, in
//! `config.json` in the user's config directory (`ATES_CONFIG_DIR` overrides it).

use crate::app::Session;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub server: Option<String>,
    pub username: Option<String>,
    pub token: Option<String>,
}

impl Saved {
    pub fn session(&self) -> Option<Session> {
        Some(Session {
            server: self.server.clone()?,
            token: self.token.clone()?,
            username: self.username.clone().unwrap_or_default(),
        })
    }

    pub fn server_or_default(&self) -> String {
        self.server
            .clone()
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned())
    }
}

/// Where the config file lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn at(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// `$ATES_CONFIG_DIR`, else the platform's config directory + `ates`
    /// (`~/.config/ates` on Linux).
    pub fn from_env() -> anyhow::Result<Store> {
        if let Some(dir) = std::env::var_os("ATES_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(Store::at(dir));
        }
        let base = dirs::config_dir()
            .context("cannot find your config directory; set ATES_CONFIG_DIR to choose one")?;
        Ok(Store::at(base.join("ates")))
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// The remembered settings; nothing remembered (or an unreadable file) is a fresh start.
    pub fn load(&self) -> Saved {
        std::fs::read_to_string(self.path())
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Writes atomically (a temporary file renamed over the old one), readable only by the
    /// user: the file holds a bearer token.
    pub fn save(&self, saved: &Saved) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let path = self.path();
        let temp = self.dir.join("config.json.tmp");
        let text = serde_json::to_string_pretty(saved)?;
        std::fs::write(&temp, text).with_context(|| format!("writing {}", temp.display()))?;
        restrict(&temp)?;
        std::fs::rename(&temp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// Remembers a session (or forgets the token, keeping server and username).
    pub fn remember(&self, session: Option<&Session>) -> anyhow::Result<()> {
        let mut saved = self.load();
        match session {
            Some(s) => {
                saved.server = Some(s.server.clone());
                saved.username = Some(s.username.clone());
                saved.token = Some(s.token.clone());
            }
            None => saved.token = None,
        }
        self.save(&saved)
    }
}

#[cfg(unix)]
fn restrict(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_remembered_and_logout_forgets_only_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("nested"));
        assert_eq!(store.load(), Saved::default());
        let session = Session {
            server: "http://h:1".into(),
            token: "t".into(),
            username: "ann".into(),
        };
        store.remember(Some(&session)).unwrap();
        assert_eq!(store.load().session(), Some(session));
        store.remember(None).unwrap();
        let saved = store.load();
        assert_eq!(saved.token, None);
        assert_eq!(saved.server.as_deref(), Some("http://h:1"));
        assert_eq!(saved.username.as_deref(), Some("ann"));
    }

    #[test]
    fn a_corrupt_file_is_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        std::fs::write(store.path(), "{not json").unwrap();
        assert_eq!(store.load(), Saved::default());
    }
}
