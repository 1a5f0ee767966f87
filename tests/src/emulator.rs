//! Starts the pinned moto server on a free loopback port, waits until it answers, and stops it on
//! drop (also when a test panics; with PR_SET_PDEATHSIG also when the test process is killed).
//! At most `ORGTRAIL_TEST_EMULATORS` (default 2) run at once across all test processes.
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub struct Emulator {
    child: Child,
    port: u16,
    log: PathBuf,
    _slot: Option<File>,
}

/// The workspace root (where `.venv` and `scripts/` live).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

pub fn moto_server_path() -> PathBuf {
    std::env::var_os("ORGTRAIL_MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv/bin/moto_server"))
}

impl Emulator {
    /// Start an emulator for a test: waits for one of the bounded slots first.
    pub fn start() -> Result<Emulator> {
        let slot = acquire_slot()?;
        Self::spawn(Some(slot), None)
    }

    /// Start an emulator outside the test slot pool (the `sandbox` command), optionally on a given port.
    pub fn start_unpooled(port: Option<u16>) -> Result<Emulator> {
        Self::spawn(None, port)
    }

    fn spawn(slot: Option<File>, port: Option<u16>) -> Result<Emulator> {
        let server = moto_server_path();
        if !server.exists() {
            bail!("the local AWS emulator is not installed ({} is missing): run scripts/bootstrap-emulator.sh", server.display());
        }
        let port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        let log = std::env::temp_dir().join(format!("orgtrail-moto-{port}.log"));
        let log_file = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        // moto with orgtrail's AWS-fidelity patches (docs/emulator.md), by the venv's interpreter;
        // ORGTRAIL_MOTO_UNPATCHED=1 runs plain moto_server, to show the fidelity tests fail without them.
        let mut cmd = if std::env::var_os("ORGTRAIL_MOTO_UNPATCHED").is_some_and(|v| v == "1") {
            Command::new(&server)
        } else {
            let mut c = Command::new(server.with_file_name("python"));
            c.arg(workspace_root().join("tests/fidelity/run_moto.py"));
            c
        };
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            // Fake credentials only; the emulator never sees real ones.
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "false");
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the child with its parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().with_context(|| format!("starting {}", server.display()))?;
        let mut emu = Emulator { child, port, log, _slot: slot };
        emu.wait_ready(Duration::from_secs(60))?;
        Ok(emu)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto server exited early ({status}); its log {}:\n{}", self.log.display(), self.log_tail());
            }
            if http(self.port, "GET", "/moto-api/").is_ok_and(|(code, _)| code == 200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("moto server on port {} did not answer within {timeout:?}; log:\n{}", self.port, self.log_tail())
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a process (orgtrail) that should talk to this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Clear all emulator state (`POST /moto-api/reset`).
    pub fn reset(&self) -> Result<()> {
        let (code, body) = http(self.port, "POST", "/moto-api/reset")?;
        if code != 200 {
            bail!("moto reset answered {code}: {body}");
        }
        Ok(())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A minimal HTTP/1.0 request to the emulator's control API on loopback.
fn http(port: u16, method: &str, path: &str) -> Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let code = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).context("malformed HTTP response")?;
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((code, body))
}

/// One of N lock files, held for the emulator's lifetime, so test processes share the 2 cores fairly.
fn acquire_slot() -> Result<File> {
    let slots: usize = std::env::var("ORGTRAIL_TEST_EMULATORS").ok().and_then(|v| v.parse().ok()).unwrap_or(2).max(1);
    let dir = std::env::temp_dir().join("orgtrail-emulator-slots");
    std::fs::create_dir_all(&dir)?;
    loop {
        for i in 0..slots {
            let f = File::options().create(true).truncate(false).write(true).open(dir.join(format!("slot-{i}.lock")))?;
            // SAFETY: flock on an fd we own; released when the File is dropped or the process dies.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(f);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
