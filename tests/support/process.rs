//! What `/proc` says about this process. Each reader returns `None` (or,
//! for the `Linux only` ones, panics) where it cannot tell: not Linux, or
//! under Miri's isolation.

/// The value of field `name` (like `"Threads:"`) of `/proc/self/status`.
fn status_field(name: &str) -> Option<String> {
    if cfg!(miri) {
        return None; // no file system under Miri's isolation
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .map(|value| value.trim().to_owned())
}

/// The number of threads of this process, or `None` where `/proc` does not
/// tell it.
pub fn process_threads() -> Option<usize> {
    status_field("Threads:")?.parse().ok()
}

/// The process's mapped memory (`VmSize`) in bytes. Linux only.
pub fn mapped_bytes() -> u64 {
    let kilobytes: u64 = status_field("VmSize:")
        .and_then(|value| value.trim_end_matches("kB").trim().parse().ok())
        .expect("VmSize in /proc/self/status");
    kilobytes * 1024
}

/// The resident set size in bytes, where the platform tells it.
pub fn resident_bytes() -> Option<usize> {
    if cfg!(miri) {
        return None; // no file system under Miri's isolation
    }
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The name of the thread running the caller, or `""`.
pub fn current_thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}
