//! Child processes for the baselines: spawned with their stderr collected (a bounded tail),
//! killed and reaped on drop, and waited for only in bounded loops.
#![allow(clippy::disallowed_methods)] // waits for external tools run on the wall clock

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::BaselineError;

/// How much of a child's stderr is kept (its end).
const STDERR_TAIL: usize = 8 << 10;

/// The Debian package that provides `program`, for error messages.
fn package_of(program: &str) -> &'static str {
    match program {
        "srt-live-transmit" => "srt-tools",
        _ => "ffmpeg",
    }
}

/// A running child: killed and reaped when dropped; its stderr is read by a helper thread
/// into a bounded tail.
#[derive(Debug)]
pub(crate) struct Tool {
    program: &'static str,
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Tool {
    /// Starts `program` with `args`; stdin and stdout are closed.
    pub(crate) fn spawn<I, S>(program: &'static str, args: I) -> Result<Tool, BaselineError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => BaselineError::ToolMissing { program, package: package_of(program) },
                _ => BaselineError::Spawn { program, source: e },
            })?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let reader = child.stderr.take().map(|mut pipe| {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut tail) = sink.lock() {
                        tail.extend_from_slice(&buf[..n]);
                        let excess = tail.len().saturating_sub(STDERR_TAIL);
                        tail.drain(..excess);
                    }
                }
            })
        });
        Ok(Tool { program, child, stderr, reader })
    }

    /// The program's name.
    pub(crate) fn program(&self) -> &'static str {
        self.program
    }

    /// What the child wrote to stderr so far (its last few KiB).
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().map(|t| String::from_utf8_lossy(&t).trim().to_owned()).unwrap_or_default()
    }

    /// The exit status, if the child has exited.
    pub(crate) fn try_wait(&mut self) -> Result<Option<ExitStatus>, BaselineError> {
        self.child
            .try_wait()
            .map_err(|e| BaselineError::Io { what: format!("waiting for {}", self.program), source: e })
    }

    /// Waits until the child exits, at most `limit`; then joins the stderr reader so the
    /// tail is complete.
    pub(crate) fn wait(&mut self, limit: Duration) -> Result<ExitStatus, BaselineError> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait()? {
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(BaselineError::Timeout {
                    what: format!("{} to finish", self.program),
                    after: limit,
                    stderr: self.stderr(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        // The pipe closes with the child, so the reader ends too.
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// Runs `program` to completion within `limit`: a non-zero exit, or anything on stderr
/// (the tools run with `-v error`), is an error.
pub(crate) fn run_quiet(
    program: &'static str,
    args: &[&std::ffi::OsStr],
    limit: Duration,
) -> Result<(), BaselineError> {
    let mut tool = Tool::spawn(program, args)?;
    let status = tool.wait(limit)?;
    let stderr = tool.stderr();
    if !status.success() || !stderr.is_empty() {
        return Err(BaselineError::ToolFailed { program, status: status.to_string(), stderr });
    }
    Ok(())
}

/// A generous limit for an ffmpeg pass over `input`: 30 s, plus 1 s per 20 MB.
pub(crate) fn limit_for(input: &Path) -> Duration {
    let len = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
    Duration::from_secs(30 + len / 20_000_000)
}
