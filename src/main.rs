fn main() -> std::process::ExitCode {
    // Before anything is keyed or read: no core file may hold the passphrase or the chart.
    if let Err(e) = kapchart::hardening::disable_core_dumps() {
        eprintln!("kapchart: cannot turn core dumps off ({e}); refusing to open the chart");
        return std::process::ExitCode::from(1);
    }
    kapchart::cli::main()
}
