fn main() -> std::process::ExitCode {
    kapchart::cli::main()
}
