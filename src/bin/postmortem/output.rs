//! Writing the output: to stdout (a closed pipe ends the program quietly)
//! or to a file through a temporary file renamed into place, so an error
//! never leaves a half-written report and an existing file is replaced only
//! when the new one is complete. Also the link from one output to another
//! (the Markdown report to its chart). `-o -` is stdout, as the contract
//! says: [`destination`] turns it into `None` before anything else looks.

use std::io::{self, Write};
use std::path::Path;

use postmortem::Error;

/// Mode of a new output file before the umask: what `>` in a shell gives.
#[cfg(unix)]
const NEW_FILE_MODE: u32 = 0o666;

/// The file `-o` names, `None` for stdout (no `-o`, or `-o -`).
pub fn destination(output: Option<&Path>) -> Option<&Path> {
    output.filter(|path| path.as_os_str() != STDOUT_NAME)
}

/// The `-o` value that means stdout.
const STDOUT_NAME: &str = "-";

/// Writes `text` to `path` (`-` or `None`: stdout).
pub fn write(path: Option<&Path>, text: &str) -> Result<(), Error> {
    match destination(path) {
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
    if !directory.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "cannot write there: the folder '{}' does not exist; create it or choose another path",
                directory.display()
            ),
        ));
    }
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        // A report is a normal file: readable as the umask allows, not the
        // private 0600 of a temporary file.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(NEW_FILE_MODE));
    }
    let mut temporary = builder.tempfile_in(directory).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create a file in '{}' ({e}); check the folder's permissions or choose another path",
                directory.display()
            ),
        )
    })?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// How a document written to `document` (or to stdout when `None`) links to
/// `target`: relative to the document's folder when it is written to a file,
/// as given otherwise; with `/` separators, as Markdown wants them.
pub fn relative_link(target: &Path, document: Option<&Path>) -> String {
    let relative = document.and_then(|document| {
        let target = std::path::absolute(target).ok()?;
        let document = std::path::absolute(document).ok()?;
        pathdiff::diff_paths(target, document.parent()?)
    });
    let link = relative.as_deref().unwrap_or(target);
    let text = link.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dash_is_stdout() {
        let cases = [
            ("no -o", None, None),
            ("-o -", Some("-"), None),
            ("a file", Some("report.md"), Some("report.md")),
            ("a file named like a flag", Some("./-"), Some("./-")),
        ];
        for (name, output, expected) in cases {
            assert_eq!(
                destination(output.map(Path::new)),
                expected.map(Path::new),
                "{name}"
            );
        }
    }

    #[test]
    fn chart_links_are_relative_to_the_report() {
        let cases = [
            (
                "same folder",
                "out/chart.svg",
                Some("out/report.md"),
                "chart.svg",
            ),
            (
                "chart in a subfolder",
                "out/img/chart.svg",
                Some("out/report.md"),
                "img/chart.svg",
            ),
            (
                "report in a subfolder",
                "chart.svg",
                Some("docs/report.md"),
                "../chart.svg",
            ),
            ("report on stdout", "img/chart.svg", None, "img/chart.svg"),
        ];
        for (name, target, document, expected) in cases {
            assert_eq!(
                relative_link(Path::new(target), document.map(Path::new)),
                expected,
                "{name}"
            );
        }
    }
}
