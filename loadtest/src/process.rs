//! A `zktx serve` child process: started on ephemeral loopback ports with a
//! ready file, killed with SIGKILL or stopped with SIGTERM, and restarted with
//! the same arguments (the chaos runs and the pilot drive it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::Target;
use crate::LoadError;

/// What `zktx serve --ready-file` wrote.
#[derive(Clone, Debug)]
pub struct Ready {
    /// Where it listens.
    pub target: Target,
    /// The sandbox demo tenant's API key.
    pub api_key: String,
    /// The receipt-signing public key (hex).
    pub receipt_public_key: String,
}

/// A sandbox server running as a child process.
pub struct ServerProcess {
    binary: PathBuf,
    data_dir: PathBuf,
    keys: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl ServerProcess {
    /// Describes a sandbox server run by `binary` (the `zktx` executable) with
    /// its store in `data_dir`, keys in `keys`, and its log appended to `log`.
    pub fn new(binary: &Path, data_dir: &Path, keys: &Path, log: &Path) -> Self {
        Self {
            binary: binary.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            keys: keys.to_path_buf(),
            log: log.to_path_buf(),
            child: None,
        }
    }

    fn ready_file(&self) -> PathBuf {
        self.data_dir.join("ready.json")
    }

    /// Starts the server and waits (up to `timeout`) until it listens;
    /// returns its addresses and keys and how long that took.
    pub fn start(&mut self, timeout: Duration) -> Result<(Ready, Duration), LoadError> {
        let started = Instant::now();
        let ready_file = self.ready_file();
        let _ = std::fs::remove_file(&ready_file);
        std::fs::create_dir_all(&self.data_dir).map_err(|e| LoadError::io(&self.data_dir, e))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| LoadError::io(&self.log, e))?;
        let log_err = log.try_clone().map_err(|e| LoadError::io(&self.log, e))?;
        let child = Command::new(&self.binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--keys")
            .arg(&self.keys)
            .args(["--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
            .arg("--ready-file")
            .arg(&ready_file)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| LoadError::io(&self.binary, e))?;
        self.child = Some(child);
        loop {
            if let Some(ready) = read_ready(&ready_file) {
                return Ok((ready, started.elapsed()));
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(LoadError::Server(format!(
                    "the server exited ({status}) before it was ready; see {}",
                    self.log.display()
                )));
            }
            if started.elapsed() > timeout {
                self.kill();
                return Err(LoadError::Server(format!(
                    "the server was not ready within {timeout:?}; see {}",
                    self.log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown, no flush beyond what is already durable.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `timeout` for a graceful exit (SIGKILL after
    /// that); returns whether it exited cleanly by itself.
    pub fn stop(&mut self, timeout: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_ready(path: &Path) -> Option<Ready> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let addr = |name: &str| json[name].as_str()?.parse().ok();
    Some(Ready {
        target: Target::loopback(addr("grpc_addr")?, addr("http_addr")?).ok()?,
        api_key: json["api_key"].as_str()?.to_string(),
        receipt_public_key: json["receipt_public_key"].as_str()?.to_string(),
    })
}
