//! The terminal: raw mode and the alternate screen while the client runs, restored on every
//! way out — normal exit, error (the guard's `Drop`) and panic (ratatui's panic hook).

use ratatui::DefaultTerminal;

pub struct Tui {
    pub terminal: DefaultTerminal,
}

impl Tui {
    /// Enters raw mode and the alternate screen; installs a panic hook that restores the
    /// terminal before the panic message is printed.
    pub fn enter() -> std::io::Result<Tui> {
        let terminal = ratatui::try_init()?;
        Ok(Tui { terminal })
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
