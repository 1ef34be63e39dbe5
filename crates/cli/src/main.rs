//! `ngoso`: the one binary. Thin: parsing and dispatch; the work is in the library crates.

use std::process::ExitCode;

// Imports and visit batches allocate many small strings; mimalloc is markedly faster than
// the system allocator at that (measured with bench/households-import).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ngoso::run()
}
