//! `contacto-server`: serve the API, migrate the database, create an administrator.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = contacto_server::cli::Cli::parse();
    let runtime = match contacto_server::runtime_builder().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: starting the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(contacto_server::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
