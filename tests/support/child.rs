//! Running one test of this binary again, in a child process: for what
//! ends or changes the whole process (an abort, a process-wide thread, a
//! thread-local destructor at exit).

use super::hang::HANG_GUARD;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a child process left behind.
pub struct ChildOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl ChildOutput {
    /// Both outputs, labelled, for a failure message.
    pub fn both(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// Runs test `name` of this test binary (`--exact`, one test thread,
/// `--nocapture`) in a child process with `env` added to its environment,
/// and returns what it left. A child that runs past [`HANG_GUARD`] is
/// killed, and the test fails with `hang` and the child's output.
pub fn run_in_child(name: &str, env: &[(&str, &str)], hang: &str) -> ChildOutput {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs again");
    // Read both pipes while the child runs, so that a full pipe never
    // stops it.
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "hang: {hang} (test `{name}` in a child, after {HANG_GUARD:?})\n\
                 stdout:\n{}\nstderr:\n{}",
                stdout.join().unwrap(),
                stderr.join().unwrap(),
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    ChildOutput {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
