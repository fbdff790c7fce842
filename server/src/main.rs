fn main() -> std::process::ExitCode {
    // the keystore inspector and the import reader run as child processes of the server, with
    // their own limits and without the server's runtime (`keystore::isolated`, `imports::reader`)
    match std::env::args().nth(1).as_deref() {
        Some("inspect-keystore") => return server::certificates::keystore::child_main(),
        Some("read-import") => return server::imports::reader::child_main(),
        _ => {}
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(server::cli::main()),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
