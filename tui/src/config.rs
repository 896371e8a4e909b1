//! What the client keeps between runs, in its config directory: `$XDG_CONFIG_HOME/ates`
//! (`~/.config/ates` on Linux; `ATES_CONFIG_DIR` overrides it; `ates config path` prints
//! the settings file's path).
//!
//! - `config.toml` holds your settings. You edit it; the client never writes it. An unknown
//!   key or a bad value stops the client at start, naming the line.
//! - `session.toml` holds the remembered server, username and token. The client writes it
//!   atomically (a fresh temporary file, readable only by you from its creation, renamed
//!   over the old one) under a lock, so two clients never leave a torn or mixed file. A
//!   broken one stops the client at start too, rather than being overwritten unseen.

use crate::app::Session;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The server to log in to when `--server` is not given.
    pub server: Option<String>,
    /// A PEM file of extra CA certificates for `https://` servers (like `--ca-cert`).
    pub ca_cert: Option<PathBuf>,
    /// Draw charts with ASCII (`#`, `-`, `|`) where the terminal's font lacks block glyphs.
    #[serde(default)]
    pub ascii_charts: bool,
    /// Key bindings: `"<screen>.<action>" = "key"` or `["key", ...]` (see `app::keymap`).
    #[serde(default)]
    pub keys: BTreeMap<String, toml::Spanned<KeyList>>,
}

/// One key or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    fn keys(&self) -> Vec<String> {
        match self {
            KeyList::One(key) => vec![key.clone()],
            KeyList::Many(keys) => keys.clone(),
        }
    }
}

/// `session.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
}

/// The config directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn at(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// `$ATES_CONFIG_DIR`, else the platform's config directory + `ates`.
    pub fn from_env() -> anyhow::Result<Store> {
        if let Some(dir) = std::env::var_os("ATES_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(Store::at(dir));
        }
        let base = dirs::config_dir()
            .context("cannot find your config directory; set ATES_CONFIG_DIR to choose one")?;
        Ok(Store::at(base.join("ates")))
    }

    /// The settings file, `config.toml`.
    pub fn path(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    pub fn session_path(&self) -> PathBuf {
        self.dir.join("session.toml")
    }

    /// Your settings; none when the file does not exist.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        read_toml(&self.path())
    }

    /// The vim preset with your `[keys]` applied; a wrong entry stops the client, naming
    /// its line.
    pub fn keymap(&self) -> anyhow::Result<crate::app::keymap::Keymap> {
        let settings = self.settings()?;
        let overrides: BTreeMap<String, Vec<String>> = settings
            .keys
            .iter()
            .map(|(name, keys)| (name.clone(), keys.get_ref().keys()))
            .collect();
        crate::app::keymap::Keymap::vim()
            .with_overrides(&overrides)
            .map_err(|(entry, message)| {
                let line = settings
                    .keys
                    .get(&entry)
                    .and_then(|spanned| {
                        let text = std::fs::read_to_string(self.path()).ok()?;
                        let start = spanned.span().start.min(text.len());
                        Some(text[..start].matches('\n').count() + 1)
                    })
                    .unwrap_or(0);
                anyhow::anyhow!("{} line {line}: {message}", self.path().display())
            })
    }

    /// The server to use when none is named: the settings', the remembered one, the default.
    pub fn default_server(&self) -> anyhow::Result<String> {
        Ok(self
            .settings()?
            .server
            .or(self.load()?.server)
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned()))
    }

    /// The remembered session; nothing remembered is a fresh start.
    pub fn load(&self) -> anyhow::Result<Saved> {
        read_toml(&self.session_path())
    }

    /// Remembers a session (or forgets the token, keeping server and username).
    pub fn remember(&self, session: Option<&Session>) -> anyhow::Result<()> {
        self.change(|saved| match session {
            Some(s) => {
                saved.server = Some(s.server.clone());
                saved.username = Some(s.username.clone());
                saved.token = Some(s.token.clone());
            }
            None => saved.token = None,
        })
    }

    /// Forgets `token` if it is still the remembered one: a client whose session ended
    /// never wipes the session another client saved since.
    pub fn forget(&self, token: &str) -> anyhow::Result<()> {
        self.change(|saved| {
            if saved.token.as_deref() == Some(token) {
                saved.token = None;
            }
        })
    }

    fn change(&self, edit: impl FnOnce(&mut Saved)) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        // Read, change and write under one lock: two clients never interleave.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("session.lock"))
            .context("opening the session lock")?;
        lock.lock().context("locking the session file")?;
        let mut saved = self.load()?;
        edit(&mut saved);
        self.save(&saved)
    }

    /// Writes atomically: a new temporary file with a unique name (created readable only
    /// by you: it holds a bearer token), synced, then renamed over the old one.
    fn save(&self, saved: &Saved) -> anyhow::Result<()> {
        let text = toml::to_string(saved)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".session.").suffix(".tmp");
        #[cfg(unix)]
        builder.permissions(private());
        let mut temp = builder
            .tempfile_in(&self.dir)
            .with_context(|| format!("writing in {}", self.dir.display()))?;
        temp.write_all(text.as_bytes())?;
        temp.as_file().sync_all()?;
        let path = self.session_path();
        temp.persist(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

#[cfg(unix)]
fn private() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

/// A TOML file as `T`; `T::default()` when it does not exist. Errors name the file, the
/// line and the column.
fn read_toml<T: serde::de::DeserializeOwned + Default>(path: &Path) -> anyhow::Result<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_remembered_and_logout_forgets_only_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("nested"));
        assert_eq!(store.load().unwrap(), Saved::default());
        let session = Session {
            server: "http://h:1".into(),
            token: "t".into(),
            username: "ann".into(),
        };
        store.remember(Some(&session)).unwrap();
        assert_eq!(store.load().unwrap().session(), Some(session));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.session_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.remember(None).unwrap();
        let saved = store.load().unwrap();
        assert_eq!(saved.token, None);
        assert_eq!(saved.server.as_deref(), Some("http://h:1"));
        assert_eq!(saved.username.as_deref(), Some("ann"));
    }

    #[test]
    fn unknown_keys_and_broken_files_are_refused_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        std::fs::write(
            store.path(),
            "server = \"https://ates.example\"\nsrever = 1\n",
        )
        .unwrap();
        let error = store.settings().unwrap_err().to_string();
        assert!(
            error.contains("line 2") && error.contains("srever"),
            "{error}"
        );
        std::fs::write(store.path(), "server = \"https://ates.example\"\n").unwrap();
        assert_eq!(store.default_server().unwrap(), "https://ates.example");
        std::fs::write(store.session_path(), "token = \n").unwrap();
        let error = store.load().unwrap_err().to_string();
        assert!(
            error.contains("session.toml") && error.contains("line 1"),
            "{error}"
        );
        assert!(
            store.remember(None).is_err(),
            "a broken file is not overwritten unseen"
        );
    }

    #[test]
    fn key_bindings_come_from_the_settings_and_a_wrong_one_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        std::fs::write(
            store.path(),
            "[keys]\n\"my_tasks.complete\" = \"x\"\n\"global.quit\" = [\"q\", \"Ctrl-q\"]\n",
        )
        .unwrap();
        let keymap = store.keymap().unwrap();
        assert_eq!(
            keymap
                .key_for(
                    crate::app::Tab::MyTasks,
                    true,
                    crate::app::keymap::Action::Complete
                )
                .as_deref(),
            Some("x")
        );
        std::fs::write(
            store.path(),
            "server = \"http://h:1\"\n[keys]\n\"board.serch\" = \"s\"\n",
        )
        .unwrap();
        let error = store.keymap().unwrap_err().to_string();
        assert!(
            error.contains("line 3") && error.contains("board.serch"),
            "{error}"
        );
    }

    #[test]
    fn a_client_forgets_only_its_own_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        let session = |token: &str| Session {
            server: "http://h:1".into(),
            token: token.into(),
            username: "u".into(),
        };
        store.remember(Some(&session("ann-token"))).unwrap();
        store.remember(Some(&session("bob-token"))).unwrap();
        store.forget("ann-token").unwrap();
        assert_eq!(store.load().unwrap().token.as_deref(), Some("bob-token"));
        store.forget("bob-token").unwrap();
        assert_eq!(store.load().unwrap().token, None);
    }

    #[test]
    fn two_clients_saving_at_once_leave_one_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for round in 0..20 {
                        let session = Session {
                            server: format!("http://h:{i}"),
                            token: format!("token-{i}-{round}"),
                            username: format!("user{i}"),
                        };
                        store.remember(Some(&session)).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let saved = store.load().unwrap();
        let i = saved
            .server
            .as_deref()
            .unwrap()
            .trim_start_matches("http://h:");
        assert_eq!(saved.username.as_deref(), Some(format!("user{i}").as_str()));
        assert!(saved.token.unwrap().starts_with(&format!("token-{i}-")));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
