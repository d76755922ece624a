//! Test support: a throwaway PostgreSQL cluster, fresh databases on both backends, and an
//! ingestion item to commit.
//!
//! The cluster is started once per test process from the machine's `initdb` and `postgres`
//! (as the `postgres` user when running as root, since `initdb` refuses root), in a temporary
//! directory on a free port. A small shell watchdog stops it and deletes the directory when
//! the test process exits, however it exits. Set `TEST_PG_URL` to use an existing server
//! instead.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::Connection;

/// A running throwaway cluster (or an external server from `TEST_PG_URL`).
#[derive(Debug)]
pub struct PgCluster {
    admin_url: String,
}

static CLUSTER: OnceLock<Result<PgCluster, String>> = OnceLock::new();

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL program as the `postgres` user when we are root.
fn pg_command(program: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

impl PgCluster {
    /// The cluster shared by every test in this process, started on first use.
    pub fn shared() -> Result<&'static PgCluster, String> {
        CLUSTER
            .get_or_init(|| match std::env::var("TEST_PG_URL") {
                Ok(url) if !url.is_empty() => Ok(PgCluster { admin_url: url }),
                _ => PgCluster::start(),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn start() -> Result<PgCluster, String> {
        let as_postgres = is_root();
        let dir: PathBuf = tempfile::Builder::new()
            .prefix("warroom-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        let data = dir.join("data");
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir))?;
        }
        run(pg_command("initdb", as_postgres)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data))?;
        let port = free_port()?;
        let pid = std::process::id();
        let runner = if as_postgres {
            "runuser -u postgres -- postgres"
        } else {
            "postgres"
        };
        // The watchdog: stop the cluster when this test process is gone. The postmaster is
        // signalled directly because runuser does not pass signals on.
        let script = format!(
            "{runner} -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
             >'{dir}/log' 2>&1 & PG=$!; \
             while kill -0 {pid} 2>/dev/null && kill -0 $PG 2>/dev/null; do sleep 0.5; done; \
             kill -INT $(head -n 1 '{data}/postmaster.pid' 2>/dev/null) $PG 2>/dev/null; wait $PG; rm -rf '{dir}'",
            data = data.display(),
            dir = dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let admin_url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        wait_ready(&admin_url, &dir)?;
        Ok(PgCluster { admin_url })
    }

    /// Creates an empty database and returns its URL.
    pub async fn fresh_database(&self) -> Result<String, String> {
        let name = format!("t_{}", random_suffix());
        let mut conn = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let base = self
            .admin_url
            .rsplit_once('/')
            .map_or(self.admin_url.as_str(), |(b, _)| b);
        Ok(format!("{base}/{name}"))
    }
}

fn wait_ready(url: &str, dir: &Path) -> Result<(), String> {
    // Probe from a plain thread with its own runtime: callers are usually inside one already.
    let url = url.to_string();
    let ready = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        for _ in 0..300 {
            if rt.block_on(sqlx::PgConnection::connect(&url)).is_ok() {
                return Some(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    })
    .join()
    .ok()
    .flatten();
    if ready.is_some() {
        return Ok(());
    }
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    Err(format!("postgres did not start within 30 s: {log}"))
}

fn random_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{}_{n}_{nanos}", std::process::id(), n)
}

/// A fresh SQLite database in its own temporary directory (kept alive by the returned guard).
pub fn fresh_sqlite() -> Result<(tempfile::TempDir, String), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.path().join("warroom.db").display());
    Ok((dir, url))
}

/// A trigger that opens alert number `n` (dedup key `k{n}`) on service `api` through
/// integration `int_test`, as a receiver would route it.
pub fn trigger_item(n: usize) -> crate::IngestItem {
    use warroom_core::alert::{Action, AlertEvent, SourceKind};
    let mut event = AlertEvent::new(SourceKind::Generic, Action::Trigger, format!("alert {n}"));
    event.dedup_key = Some(format!("k{n}"));
    crate::IngestItem {
        event,
        integration_id: "int_test".into(),
        dedup_key: format!("k{n}"),
        received_at: jiff::Timestamp::from_second(1_795_000_000).unwrap_or_default(),
        new_alert_id: format!("alr_{n}"),
        service: Some("api".into()),
        incident_severity: "P2".into(),
        playbooks: Vec::new(),
        disposition: crate::Disposition::Open,
        threshold: None,
        open_incidents: true,
    }
}
