//! `ates`: the aTES terminal client. Everything lives in the library; this only runs it.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    ates_tui::cli::main()
}
