//! A real `yutang serve` process for the crash drills: started on a database, polled until it
//! answers, killed with SIGKILL (no shutdown, no flush, nothing finished).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Poll `ready` every 50 ms until it answers `Some`, for at most `limit`; `what` and the
/// node's log name what never happened.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, log: &Path, mut ready: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = ready().await {
            return v;
        }
        if Instant::now() > until {
            panic!(
                "{what} did not happen within {limit:?}; the node's log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `yutang serve` process.
pub struct Node {
    child: Child,
    pub addr: String,
    pub log: PathBuf,
}

impl Node {
    /// Start node number `n` on `url`, logging to `dir/node-{n}.log`, with `env` added to
    /// its environment; returns once it answers `/readyz`.
    pub async fn start(url: &str, dir: &Path, n: usize, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = dir.join(format!("node-{n}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yutang"));
        cmd.current_dir(dir)
            .args(["serve", "--database-url", url, "--listen", &addr])
            .env_remove("YUTANG_DATABASE_URL")
            .env("YUTANG_LOG", "warn")
            .env("YUTANG_AUTH__ARGON2_MEMORY_KIB", "1024")
            .env("YUTANG_AUTH__ARGON2_ITERATIONS", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut node = Self { child, addr, log };
        let http = reqwest::Client::new();
        let ready = format!("http://{}/readyz", node.addr);
        let log = node.log.clone();
        let child = &mut node.child;
        wait_for(
            Duration::from_secs(60),
            "the node answering /readyz",
            &log,
            || {
                let exited = child.try_wait().unwrap();
                let get = http.get(&ready).send();
                let log = log.clone();
                async move {
                    if let Some(status) = exited {
                        panic!(
                            "the node exited ({status}):\n{}",
                            std::fs::read_to_string(&log).unwrap_or_default()
                        );
                    }
                    get.await
                        .ok()
                        .filter(|r| r.status().is_success())
                        .map(|_| ())
                }
            },
        )
        .await;
        node
    }

    /// SIGKILL: no shutdown, no flush, nothing finished.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "{status}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
