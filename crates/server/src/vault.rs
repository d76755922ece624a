//! The evidence vault: content on disk, named by its SHA-256, one copy per distinct content.
//!
//! Layout: `ROOT/sha256/ab/abcdef...` (the first two hex digits fan the files out), and
//! `ROOT/tmp/` for uploads in progress. An upload streams into a temporary file while it is
//! hashed and counted; once complete it is flushed to disk, then renamed to its hash's name and
//! the directory flushed too, so a blob that has a name is whole and durable. When the content
//! is already there the new copy is dropped: the first one stays. Blobs are written read-only.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Default largest upload: 2 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// How long an upload may send nothing before it is abandoned, so a stalled client cannot
/// hold a temporary file open forever.
const IDLE: Duration = Duration::from_secs(60);

/// Why storing or reading a blob failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The upload is larger than the limit.
    #[error("the upload is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The client stopped sending or the connection broke.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// Nothing was sent.
    #[error("the upload is empty")]
    Empty,
    /// The disk said no.
    #[error("evidence storage: {0}")]
    Io(#[from] io::Error),
}

/// A blob as it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// False when the same content was already there (and this copy was dropped).
    pub new_blob: bool,
}

/// What checking a blob against its recorded hash found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobCheck {
    /// The content hashes to its name.
    Ok,
    /// No file by that name.
    Missing,
    /// The content hashes to something else: it was altered or damaged.
    Mismatch {
        /// What it hashes to now.
        actual: String,
    },
}

/// Blobs under one directory, with an upload size limit.
#[derive(Debug, Clone)]
pub struct Vault {
    root: PathBuf,
    max_bytes: u64,
}

impl Vault {
    /// A vault under `root` (created on first upload) taking uploads up to `max_bytes`.
    pub fn new(root: PathBuf, max_bytes: u64) -> Self {
        Self { root, max_bytes }
    }

    /// The largest upload accepted, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where the blob with this hash lives (whether or not it exists). `sha256` must already
    /// be validated as 64 hex digits, which keeps it from naming anything else.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root
            .join("sha256")
            .join(sha256.get(..2).unwrap_or("00"))
            .join(sha256)
    }

    /// Streams `body` into the vault: hashed and counted on the way, refused past the limit,
    /// durable before this returns.
    pub async fn store<S, E>(&self, body: S) -> Result<Stored, VaultError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp_dir = self.root.join("tmp");
        create_private_dir(&tmp_dir).await?;
        let tmp = tmp_dir.join(format!("{}.part", crate::auth::random_hex(16)));
        let result = self.write_temp(&tmp, body).await;
        let (sha256, size) = match result {
            Ok(done) => done,
            Err(err) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(err);
            }
        };
        let target = self.blob_path(&sha256);
        let dir = target.parent().map(Path::to_path_buf).unwrap_or_default();
        let placed = async {
            create_private_dir(&dir).await?;
            if tokio::fs::try_exists(&target).await? {
                tokio::fs::remove_file(&tmp).await?;
                return Ok::<bool, io::Error>(false);
            }
            tokio::fs::rename(&tmp, &target).await?;
            sync_dir(&dir).await?;
            Ok(true)
        }
        .await;
        match placed {
            Ok(new_blob) => Ok(Stored {
                sha256,
                size,
                new_blob,
            }),
            Err(err) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(err.into())
            }
        }
    }

    async fn write_temp<S, E>(&self, tmp: &Path, mut body: S) -> Result<(String, u64), VaultError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(tmp).await?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        loop {
            let next = tokio::time::timeout(IDLE, body.next()).await.map_err(|_| {
                VaultError::Interrupted(format!("nothing received for {} seconds", IDLE.as_secs()))
            })?;
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| VaultError::Interrupted(e.to_string()))?;
            size = size.saturating_add(chunk.len() as u64);
            if size > self.max_bytes {
                return Err(VaultError::TooLarge {
                    limit: self.max_bytes,
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        if size == 0 {
            return Err(VaultError::Empty);
        }
        file.flush().await?;
        file.sync_all().await?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Content addressed means immutable: nothing in Warroom writes a blob twice.
            file.set_permissions(std::fs::Permissions::from_mode(0o400))
                .await?;
        }
        Ok((hex::encode(hasher.finalize()), size))
    }

    /// Opens a blob for reading, with its size on disk; `None` when it is missing.
    pub async fn open(&self, sha256: &str) -> Result<Option<(tokio::fs::File, u64)>, VaultError> {
        match tokio::fs::File::open(self.blob_path(sha256)).await {
            Ok(file) => {
                let len = file.metadata().await?.len();
                Ok(Some((file, len)))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Re-reads a blob and compares what it hashes to with its name.
    pub async fn check(&self, sha256: &str) -> Result<BlobCheck, VaultError> {
        let Some((mut file, _)) = self.open(sha256).await? else {
            return Ok(BlobCheck::Missing);
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let actual = hex::encode(hasher.finalize());
        Ok(if actual == sha256 {
            BlobCheck::Ok
        } else {
            BlobCheck::Mismatch { actual }
        })
    }
}

async fn create_private_dir(dir: &Path) -> io::Result<()> {
    if tokio::fs::try_exists(dir).await? {
        return Ok(());
    }
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await?;
    // The new directory's own entry must reach the disk too, or a crash could lose the blob
    // renamed into it.
    if let Some(parent) = dir.parent() {
        sync_dir(parent).await?;
    }
    Ok(())
}

/// Flushes a directory's entries (a rename into it) to disk.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, io::Error>> + Unpin {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn stores_by_hash_once_and_checks() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::new(dir.path().join("evidence"), 1024);
        let first = vault
            .store(chunks(&[b"hello ", b"world"]))
            .await
            .expect("stored");
        assert_eq!(
            first.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert!(first.new_blob);
        assert_eq!(first.size, 11);
        let again = vault
            .store(chunks(&[b"hello world"]))
            .await
            .expect("stored");
        assert!(!again.new_blob);
        assert_eq!(
            vault.check(&first.sha256).await.expect("check"),
            BlobCheck::Ok
        );
        let tmp = std::fs::read_dir(dir.path().join("evidence/tmp"))
            .expect("tmp")
            .count();
        assert_eq!(tmp, 0, "no temporary file is left behind");
        let missing = "0".repeat(64);
        assert_eq!(
            vault.check(&missing).await.expect("check"),
            BlobCheck::Missing
        );
    }

    #[tokio::test]
    async fn refuses_past_the_limit_and_leaves_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::new(dir.path().to_path_buf(), 8);
        let err = vault
            .store(chunks(&[b"12345", b"6789"]))
            .await
            .expect_err("too large");
        assert!(matches!(err, VaultError::TooLarge { limit: 8 }), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp"))
                .expect("tmp")
                .count(),
            0
        );
        assert!(!dir.path().join("sha256").exists());
        let err = vault.store(chunks(&[])).await.expect_err("empty");
        assert!(matches!(err, VaultError::Empty));
    }
}
