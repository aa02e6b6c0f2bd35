fn main() -> std::process::ExitCode {
    leadx::cli::main()
}
