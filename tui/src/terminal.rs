//! The terminal: raw mode, the alternate screen and bracketed paste while the client runs,
//! restored on every way out: normal exit, error (the guard's `Drop`), panic (the panic
//! hook), SIGTERM and SIGHUP (they end the event loop like `q`), and Ctrl-Z (suspended
//! with the terminal restored, taken over again on resume).

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};

pub struct Tui {
    pub terminal: DefaultTerminal,
}

impl Tui {
    /// Enters raw mode, the alternate screen and bracketed paste; installs a panic hook
    /// that restores the terminal before the panic message is printed.
    pub fn enter() -> std::io::Result<Tui> {
        let terminal = ratatui::try_init()?;
        execute!(std::io::stdout(), EnableBracketedPaste)?;
        // ratatui's hook restores raw mode and the screen; bracketed paste is ours.
        let restore_screen = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(std::io::stdout(), DisableBracketedPaste);
            restore_screen(info);
        }));
        Ok(Tui { terminal })
    }

    /// Ctrl-Z: gives the terminal back to the shell, stops like any job, and takes the
    /// terminal over again when resumed (`fg`).
    #[cfg(unix)]
    pub fn suspend(&mut self) -> std::io::Result<()> {
        restore();
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGTSTP)
            .map_err(std::io::Error::other)?;
        // Running again.
        enable_raw_mode()?;
        execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste
        )?;
        self.terminal.clear()
    }

    #[cfg(not(unix))]
    pub fn suspend(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn restore() {
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}
