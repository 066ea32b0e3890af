use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = veil::cli::Cli::parse();
    match veil::commands::run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            // Not eprintln!, which panics when stderr is a terminal that is gone.
            let _ = writeln!(
                std::io::stderr(),
                "veil: {}",
                veil::text::printable(&veil::commands::error_chain(&e), 4000)
            );
            veil::commands::Exit::Error.into()
        }
    }
}

/// Rust ignores SIGPIPE, so `veil list | head` would panic on a closed pipe;
/// like other command-line tools, end quietly instead.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; setting
    // a signal's disposition to the default has no other preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
