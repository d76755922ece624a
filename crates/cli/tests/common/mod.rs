//! The `warroom serve` child process the end-to-end tests run the real binary against, and
//! their shared assertions.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// A `warroom serve` child; killed on drop, so a failing assertion does not leave it running.
pub struct Server {
    child: Child,
    pub url: String,
    pub data_dir: PathBuf,
    log: PathBuf,
    // Dropped after `drop` has killed the server, so the files outlive it.
    _root: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    // The OS picks a free port; there is a small window before the server binds it.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// `warroom serve` with extra arguments (`--config DIR`).
    pub fn start_with(extra: &[&str]) -> Server {
        let root = tempfile::tempdir().expect("tempdir");
        let data_dir = root.path().join("data");
        let log = root.path().join("server.log");
        let log_file = File::create(&log).expect("log file");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(BIN)
            .args(["serve", "--listen", &listen, "--data-dir"])
            .arg(&data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            // The developer's own database must never be the one this test writes to.
            .env_remove("WARROOM_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .expect("start warroom serve");
        let mut server = Server {
            child,
            url: format!("http://{listen}"),
            data_dir,
            log,
            _root: root,
        };
        server.wait_until_healthy(&listen);
        server
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Healthy and the admin token written, which the client commands below rely on.
    fn wait_until_healthy(&mut self, addr: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if health_ok(addr) && self.data_dir.join("admin.token").exists() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "warroom serve exited with {status}; log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "warroom serve did not become healthy within 30 s; log:\n{}",
                self.log_text()
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// Runs `warroom` against this server with the admin token from the data directory.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// [`Server::run`] with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(BIN)
            .envs(env.iter().copied())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env("WARROOM_URL", &self.url)
            .env_remove("WARROOM_TOKEN")
            .stdin(Stdio::null())
            .output()
            .expect("run warroom")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "warroom {args:?} failed ({}):\nstderr: {}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn ok_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{text}"))
    }
}

/// A minimal `GET /health` so the test needs no HTTP client of its own.
pub fn health_ok(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Asserts a failed run: exit code 1 and exactly one `error: ...` line on stderr.
pub fn assert_one_error_line(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{what}: stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one stderr line, got {stderr:?}"
    );
    assert!(lines[0].starts_with("error: "), "{what}: {stderr:?}");
    lines[0].to_string()
}
