//! A process that only waits: the end-to-end suite starts it under the name
//! and command line of a Kubernetes component (`exec -a`), so that
//! `/proc/<pid>/cmdline` shows exactly that command line and nothing else.
//! It ignores its arguments and ends when its PID namespace does.

fn main() {
    loop {
        std::thread::park();
    }
}
