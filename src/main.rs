//! The `techmatch` command.

fn main() -> std::process::ExitCode {
    techmatch::cli::main()
}
