//! Writing the output: to stdout (a closed pipe ends the program quietly)
//! or to a file through a temporary file renamed into place, so an error
//! never leaves a half-written report and an existing file is replaced only
//! when the new one is complete.

use std::io::{self, Write};
use std::path::Path;

use postmortem::Error;

pub fn write(path: Option<&Path>, text: &str) -> Result<(), Error> {
    match path {
        None => {
            let mut stdout = io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|e| Error::Io {
                    path: "standard output".into(),
                    source: e,
                }),
            }
        }
        Some(path) => write_atomically(path, text.as_bytes()).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // A device, pipe or socket (`-o /dev/null`, `-o /dev/stdout`, a FIFO)
    // is written in place: renaming a file over it would replace the device
    // itself.
    if let Ok(metadata) = std::fs::metadata(path)
        && !metadata.is_file()
        && !metadata.is_dir()
    {
        let mut target = std::fs::OpenOptions::new().write(true).open(path)?;
        target.write_all(bytes)?;
        return target.flush();
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}
