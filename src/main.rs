use std::process::ExitCode;

/// mimalloc rather than the system allocator: a GraphQL response is thousands of small
/// allocations, and glibc's malloc was a third of the partner inbox's CPU time (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc commits each arena it reserves in full at once by default where the system
/// overcommits memory (Linux); committing on demand lowered the server's peak RSS under the inbox
/// at 16 connections over 1,000,000 referrals from 88-94 to 65-67 MB, at the same mean throughput
/// (bench/RESULTS.md, session 11). The setting must be in place before the first allocation
/// reserves the first arena, and the Rust runtime allocates before `main`: hence a constructor,
/// which runs before it. An explicit `MIMALLOC_ARENA_EAGER_COMMIT` in the environment still wins
/// (that is what `set_default` means).
#[cfg(target_os = "linux")]
extern "C" fn commit_on_demand() {
    /// `mi_option_arena_eager_commit` in mimalloc v3's `mimalloc.h` (the version libmimalloc-sys
    /// builds by default); the crate names no constant for it.
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    // SAFETY: setting an option's default touches only mimalloc's option table, and no thread
    // but this one exists yet.
    unsafe { libmimalloc_sys::mi_option_set_default(ARENA_EAGER_COMMIT, 0) }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static COMMIT_ON_DEMAND: extern "C" fn() = commit_on_demand;

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
