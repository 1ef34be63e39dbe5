//! `ngoso`: the one binary. Thin: parsing and dispatch; the work is in the library crates.

use std::process::ExitCode;

fn main() -> ExitCode {
    ngoso::run()
}
