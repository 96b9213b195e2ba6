//! The `healthplug` binary.

fn main() -> std::process::ExitCode {
    healthplug_host::cli::main()
}
