//! Untrusted input parsed in a child process of this program (`switchboard <command>`), so that
//! a file made to exhaust a parser costs a bounded moment of one core and none of the server's
//! memory: the keystore inspector and the import reader. The parent starts it with a clean
//! environment, standard input and output piped and standard error dropped, and kills it when
//! it lets go of it; the child limits its own CPU time and address space before it reads.

use std::path::Path;

/// Starts `exe command` as an isolated child.
pub fn spawn(exe: &Path, command: &str) -> std::io::Result<tokio::process::Child> {
    tokio::process::Command::new(exe)
        .arg(command)
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
}

/// In the child, before it reads anything: at most `cpu_secs` of CPU (then SIGXCPU, then
/// SIGKILL a second later) and `memory` bytes of address space.
pub fn limit_self(cpu_secs: u64, memory: u64) -> std::io::Result<()> {
    rlimit::setrlimit(rlimit::Resource::CPU, cpu_secs, cpu_secs + 1)
        .and_then(|()| rlimit::setrlimit(rlimit::Resource::AS, memory, memory))
}
