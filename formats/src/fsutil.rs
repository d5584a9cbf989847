//! File helpers: atomic writes and private (0600) files.

use std::{fs, io::Write, path::Path};

use crate::FormatError;

/// Writes `bytes` to `path` through a temporary file and a rename, so readers
/// never see a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    write_with_mode(path, bytes, 0o644)
}

/// Like [`write_atomically`] with an explicit Unix permission mode.
pub fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FormatError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        FormatError::io(path, e)
    })
}
