//! Each file read once: the identity of a file or folder reached by several
//! paths (a symbolic link, a linked folder, a link back up the tree, a path
//! given twice, a folder and a file in it), and whole copies of another
//! input found by their content. Both become [`Duplicate`] notices naming
//! the path skipped and the path read.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// An input left out because its lines are already read through another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The path left out.
    pub path: PathBuf,
    /// The path whose reading already covers it.
    pub read_as: PathBuf,
    pub why: DuplicateKind,
}

/// How a path was found to duplicate another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateKind {
    /// The same file (or folder) on disk, reached by another path.
    SameFile,
    /// A folder that is an ancestor of the folder linking to it: walking it
    /// would read the tree again and again.
    LinkLoop,
    /// Another file with byte-for-byte the same content (a copy).
    SameContent,
}

impl Duplicate {
    /// The notice a user reads: both paths and what was done.
    pub fn message(&self) -> String {
        let (path, read_as) = (self.path.display(), self.read_as.display());
        match self.why {
            DuplicateKind::SameFile => format!(
                "'{path}' is the same file as '{read_as}' (a link or a path reached twice): read once, as '{read_as}'"
            ),
            DuplicateKind::LinkLoop => format!(
                "'{path}' links back to the folder '{read_as}' that holds it: not walked again, so its files are read once"
            ),
            DuplicateKind::SameContent => format!(
                "'{path}' has exactly the content of '{read_as}' (a copy): not counted twice; its lines are read once, as '{read_as}'"
            ),
        }
    }
}

/// Who a file or folder is on disk: (device, inode) where the platform has
/// them, else the canonical path. Two paths with one identity are one file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    Inode { device: u64, inode: u64 },
    Canonical(PathBuf),
}

impl Identity {
    #[cfg(unix)]
    pub fn of(_path: &Path, metadata: &Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity::Inode {
            device: metadata.dev(),
            inode: metadata.ino(),
        }
    }

    #[cfg(not(unix))]
    pub fn of(path: &Path, _metadata: &Metadata) -> Identity {
        Identity::Canonical(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// The files and folders seen so far while expanding the inputs, each with
/// the first path it was reached by.
#[derive(Default)]
pub struct Seen {
    paths: HashMap<Identity, PathBuf>,
}

impl Seen {
    /// Records `path`; when its file or folder was reached before, the path
    /// that reached it first.
    pub fn first_path(&mut self, path: &Path, metadata: &Metadata) -> Option<PathBuf> {
        let identity = Identity::of(path, metadata);
        if let Some(first) = self.paths.get(&identity) {
            return Some(first.clone());
        }
        self.paths.insert(identity, path.to_path_buf());
        None
    }
}

/// When the symbolic link `entry` (found in `folder`) points at `folder`
/// itself or one of its ancestors, that folder: walking it would read the
/// tree below it again, endlessly for a link such as `self -> ..`.
pub fn link_loop_target(folder: &Path, entry: &Path) -> Option<PathBuf> {
    let is_link = std::fs::symlink_metadata(entry).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return None;
    }
    let target = std::fs::canonicalize(entry).ok()?;
    let holder = std::fs::canonicalize(folder).ok()?;
    holder.starts_with(&target).then_some(target)
}

/// Bytes hashed at each end of a file to find copies: one read at the head
/// and one at the tail, cheap next to reading the file. Two files are only
/// compared whole when their sizes and both ends' hashes agree, so the
/// comparison is exact and almost never run on files that differ.
pub const FINGERPRINT_BLOCK_BYTES: usize = 64 << 10;

/// What a file's content is recognised by before a whole comparison: its
/// size on disk and a hash of its first and last blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Fingerprint {
    size: u64,
    ends: u64,
}

fn fingerprint(path: &Path) -> io::Result<Fingerprint> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut block = vec![0; FINGERPRINT_BLOCK_BYTES];
    let mut hasher = DefaultHasher::new();
    let head = read_full(&mut file, &mut block)?;
    hasher.write(&block[..head]);
    if size > FINGERPRINT_BLOCK_BYTES as u64 {
        file.seek(SeekFrom::Start(size - FINGERPRINT_BLOCK_BYTES as u64))?;
        let tail = read_full(&mut file, &mut block)?;
        hasher.write(&block[..tail]);
    }
    Ok(Fingerprint {
        size,
        ends: hasher.finish(),
    })
}

/// Reads until `buffer` is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Bytes compared at a time when two files' fingerprints agree.
const COMPARE_BYTES: usize = 1 << 20;

/// Whether two files hold exactly the same bytes (read to the end).
fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut a, mut b) = (File::open(a)?, File::open(b)?);
    let (mut block_a, mut block_b) = (vec![0; COMPARE_BYTES], vec![0; COMPARE_BYTES]);
    loop {
        let got_a = read_full(&mut a, &mut block_a)?;
        let got_b = read_full(&mut b, &mut block_b)?;
        if block_a[..got_a] != block_b[..got_b] {
            return Ok(false);
        }
        if got_a == 0 {
            return Ok(true);
        }
    }
}

/// Of `files` (in reading order), each one whose content is exactly that
/// of an earlier one, with the earlier one's index. Empty files are never
/// copies (there is nothing to count twice). A file that cannot be read
/// here is left to the reader, which reports it.
pub fn copies(files: &[&Path]) -> Vec<(usize, usize)> {
    let mut by_print: HashMap<Fingerprint, Vec<usize>> = HashMap::new();
    let mut found = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let Ok(print) = fingerprint(path) else {
            continue;
        };
        if print.size == 0 {
            continue;
        }
        let earlier = by_print.entry(print).or_default();
        let original = earlier
            .iter()
            .copied()
            .find(|&e| same_bytes(files[e], path).unwrap_or(false));
        match original {
            Some(original) => found.push((index, original)),
            None => earlier.push(index),
        }
    }
    found
}
