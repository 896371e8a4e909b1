//! `ates`: the aTES terminal client. Everything lives in the library; this only runs it.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    // The client links the server for `ates demo`, and with it the server's allocator
    // (mimalloc): tune it as the server does, so a demo gives freed memory back alike.
    ates_server::memory::tune_allocator();
    ates_tui::cli::main()
}
