use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    welzijnshuis::cli::run().await
}
