//! `chat-gateway`: see `chat-gateway --help`.

use std::process::ExitCode;

use chat_gateway::{Settings, cli, telemetry};

/// mimalloc returns freed memory to the system and allocates faster than glibc's malloc under
/// many threads (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::parse();
    // Before the log exists (its format is a setting): a bad setting is one line on stderr.
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_tracing(&settings.log);
    match cli::run(cli, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
