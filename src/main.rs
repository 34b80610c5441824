use std::process::ExitCode;

/// mimalloc rather than the system allocator: a GraphQL response is thousands of small
/// allocations, and glibc's malloc was a third of the partner inbox's CPU time (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    welzijnshuis::cli::run().await
}
