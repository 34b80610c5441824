use std::process::ExitCode;

/// mimalloc rather than the system allocator: a GraphQL response is thousands of small
/// allocations, and glibc's malloc was a third of the partner inbox's CPU time (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Worker threads with room to spare: every recursion over a request is bounded (brackets,
/// values, fragments), and a larger stack is the defence in depth should one bound be missed.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
        .expect("the tokio runtime starts");
    runtime.block_on(welzijnshuis::cli::run())
}
