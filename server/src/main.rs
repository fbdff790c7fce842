fn main() -> std::process::ExitCode {
    // the keystore inspector runs as a child process of the server, with its own limits and
    // without the server's runtime (see `keystore::isolated`)
    if std::env::args().nth(1).as_deref() == Some("inspect-keystore") {
        return server::keystore::child_main();
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
