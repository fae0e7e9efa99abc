//! Running shell audits, the one kind of check that starts processes: the
//! `ShellRunner` trait, the live runner (`/bin/sh` reading the command on
//! its standard input, standard output and error combined in one pipe,
//! kubecis's own environment and working directory, as kube-bench runs
//! them; with a time limit and a bound on the output kept), and a runner
//! that refuses (`--no-exec`, or a host root the shell cannot see). A
//! snapshot answers from outputs it recorded (see `snapshot`).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellRun {
    /// Standard output and error, interleaved as written.
    pub output: String,
    pub status: ShellStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellStatus {
    Exited(i32),
    Signaled(i32),
}

impl ShellStatus {
    pub fn success(self) -> bool {
        self == ShellStatus::Exited(0)
    }
}

/// Why a command gave no usable result. kubecis reports each of these as
/// WARN with the reason: the node was not looked at, so nothing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellError {
    /// Not run on purpose (`--no-exec`, a host root the shell cannot see).
    Refused(String),
    /// The snapshot recorded no output for this command.
    NotRecorded,
    TimedOut {
        after: Duration,
    },
    TooMuchOutput {
        limit: usize,
    },
    /// `/bin/sh` could not be started.
    Spawn(String),
}

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShellError::Refused(why) => f.write_str(why),
            ShellError::NotRecorded => {
                f.write_str("the snapshot recorded no output for this command")
            }
            ShellError::TimedOut { after } => {
                write!(
                    f,
                    "the command did not finish within {}s and was killed",
                    after.as_secs()
                )
            }
            ShellError::TooMuchOutput { limit } => {
                write!(f, "the command printed more than {limit} bytes")
            }
            ShellError::Spawn(e) => write!(f, "/bin/sh could not be started: {e}"),
        }
    }
}

pub trait ShellRunner {
    /// Run `script` (already trimmed, never empty) with `/bin/sh`.
    fn run(&self, script: &str) -> Result<ShellRun, ShellError>;
}

/// Refuses every command with the same reason.
pub struct RefusingShell(pub String);

impl ShellRunner for RefusingShell {
    fn run(&self, _script: &str) -> Result<ShellRun, ShellError> {
        Err(ShellError::Refused(self.0.clone()))
    }
}

/// Runs commands on the machine kubecis runs on.
pub struct LiveShell {
    pub timeout: Duration,
    pub max_output: usize,
}

/// Default time limit for one audit command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Most output kept from one audit command.
pub const DEFAULT_MAX_OUTPUT: usize = 4 * 1024 * 1024;

impl Default for LiveShell {
    fn default() -> Self {
        LiveShell {
            timeout: DEFAULT_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }
}

impl ShellRunner for LiveShell {
    fn run(&self, script: &str) -> Result<ShellRun, ShellError> {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let (reader, writer) = nix::unistd::pipe().map_err(|e| ShellError::Spawn(e.to_string()))?;
        let writer_err = writer
            .try_clone()
            .map_err(|e| ShellError::Spawn(e.to_string()))?;
        let mut child = Command::new("/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(writer_err))
            // Its own process group, so a time-out kills what it started.
            .process_group(0)
            .spawn()
            .map_err(|e| ShellError::Spawn(e.to_string()))?;
        let pgid = child.id() as i32;

        // The script goes in on standard input, as kube-bench gives it, so
        // it never shows on a command line a later `ps | grep` would see.
        let mut stdin = child.stdin.take();
        let script_owned = script.to_string();
        let feeder = std::thread::spawn(move || {
            if let Some(mut s) = stdin.take() {
                let _ = s.write_all(script_owned.as_bytes());
            }
        });

        let max = self.max_output;
        let collector = std::thread::spawn(move || {
            let mut file = std::fs::File::from(reader);
            let mut kept = Vec::new();
            let mut buf = [0u8; 8192];
            let mut overflow = false;
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if kept.len() + n > max {
                            overflow = true;
                            let room = max.saturating_sub(kept.len());
                            kept.extend_from_slice(&buf[..room]);
                        } else {
                            kept.extend_from_slice(&buf[..n]);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            (kept, overflow)
        });

        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                _ => break None,
            }
        };
        let kill_group = || {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        };
        let Some(status) = status else {
            kill_group();
            let _ = child.wait();
            let _ = feeder.join();
            let _ = collector.join();
            return Err(ShellError::TimedOut {
                after: self.timeout,
            });
        };
        let _ = feeder.join();
        // A background child of the script may hold the pipe open; give it
        // until the deadline, then end it.
        while !collector.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        if !collector.is_finished() {
            kill_group();
        }
        let (kept, overflow) = collector
            .join()
            .map_err(|_| ShellError::Spawn("the output reader stopped".to_string()))?;
        if overflow {
            return Err(ShellError::TooMuchOutput {
                limit: self.max_output,
            });
        }
        let status = match (status.code(), status.signal()) {
            (Some(code), _) => ShellStatus::Exited(code),
            (None, Some(sig)) => ShellStatus::Signaled(sig),
            (None, None) => ShellStatus::Exited(-1),
        };
        Ok(ShellRun {
            output: String::from_utf8_lossy(&kept).into_owned(),
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_errors_are_combined_in_order_with_the_exit_status() {
        let sh = LiveShell::default();
        let run = sh
            .run("echo out; echo err >&2; echo again; exit 3")
            .unwrap();
        assert_eq!(run.output, "out\nerr\nagain\n");
        assert_eq!(run.status, ShellStatus::Exited(3));
        let run = sh.run("printf '%s' \"$0\"").unwrap();
        assert_eq!(run.output, "/bin/sh");
        assert!(run.status.success());
    }

    #[test]
    fn a_slow_command_is_killed_and_a_loud_one_is_cut() {
        let sh = LiveShell {
            timeout: Duration::from_millis(300),
            max_output: 1000,
        };
        let start = Instant::now();
        assert_eq!(
            sh.run("sleep 5; echo late"),
            Err(ShellError::TimedOut {
                after: Duration::from_millis(300)
            })
        );
        assert!(start.elapsed() < Duration::from_secs(3));
        assert_eq!(
            sh.run("yes | head -c 5000"),
            Err(ShellError::TooMuchOutput { limit: 1000 })
        );
        let run = sh.run("kill -TERM $$").unwrap();
        assert_eq!(run.status, ShellStatus::Signaled(15));
    }
}
