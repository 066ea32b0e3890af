use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = veil::cli::Cli::parse();
    match veil::commands::run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("veil: {}", veil::text::printable(&format!("{e:#}"), 4000));
            veil::commands::Exit::Error.into()
        }
    }
}
