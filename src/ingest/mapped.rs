//! Plain files read through a memory map instead of copied out of the page
//! cache, only while the kernel guarantees that nobody can shrink them.
//!
//! Copying a file out of the page cache (`pread`) costs a pass over every
//! byte in the kernel before the parser's own pass; on the ALB's 676-byte
//! lines it was a quarter of the CPU time (BENCHMARKS.md, "Throughput,
//! fifteenth session"). A mapping has no copy, but a mapped page past the
//! end of a file that shrank (logrotate's `copytruncate`, `: > access.log`)
//! kills the process with `SIGBUS`. So a file is mapped only under a Linux
//! read lease (`fcntl(F_SETLEASE, F_RDLCK)`):
//!
//! - the lease is refused while any process has the file open for writing
//!   (a live log that nginx appends to is read with `pread`, as before);
//! - while it is held, a process that opens the file for writing or
//!   truncates it is held back by the kernel until the lease is given up or
//!   `/proc/sys/fs/lease-break-time` seconds pass, and the lease reads as
//!   breaking from then on ([`Lease::holds`]);
//! - each mapping is made only after checking that the lease still holds,
//!   and covers a few chunks ([`MAPPED_WINDOW_BYTES`], a few milliseconds of
//!   parsing), so the kernel's wait (at least [`MIN_LEASE_BREAK_SECONDS`],
//!   else no mapping) outlasts any mapping in use when the break began;
//! - after a break, each worker goes on with positional reads, and the
//!   lease is given up as soon as no worker maps any more
//!   ([`Lease::stop_mapping`]), so the other process waits milliseconds.
//!
//! The kernel tells a lease holder of a break with a signal; `SIGIO`, the
//! default, would end the process, so the file's lease signal is set to
//! `SIGURG`, which is ignored unless the program handles it (a lease is not
//! taken if it does). A file the lease cannot cover (not its owner and no
//! `CAP_LEASE`, most network file systems, leases disabled, not Linux) is read
//! with positional reads: same records, same report.

use std::fs::File;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes mapped at a time: a few chunks of the worker's take. Mapping 512
/// KiB at a time cost as much in `mmap`/`munmap` as it saved; 2 MiB and
/// more ran alike (BENCHMARKS.md).
pub const MAPPED_WINDOW_BYTES: usize = 2 << 20;

/// Files shorter than this are read with positional reads: a few reads
/// of a small file cost less than leasing and mapping it.
pub const MAPPED_FROM_BYTES: u64 = MAPPED_WINDOW_BYTES as u64;

/// Bytes mapped past a window for the end of its last line; a longer last
/// line is read with positional reads.
pub const MAPPED_OVERREAD_BYTES: usize = 64 << 10;

/// The shortest `lease-break-time` under which files are mapped: the
/// kernel's wait for a breaking lease must outlast the parse of a window
/// (milliseconds) by far.
pub const MIN_LEASE_BREAK_SECONDS: u64 = 5;

/// `fcntl`'s command that picks a descriptor's I/O signal (`F_SETSIG` of
/// Linux's `<fcntl.h>`, which the libc crate does not name).
#[cfg(target_os = "linux")]
const F_SETSIG: libc::c_int = 10;

/// Where the kernel's wait for a breaking lease is set.
#[cfg(target_os = "linux")]
const LEASE_BREAK_TIME: &str = "/proc/sys/fs/lease-break-time";

/// A read lease on one plain file, shared by the workers that read it.
pub struct Lease<'f> {
    file: &'f File,
    /// Bytes a worker maps at a time, and past them for its last line
    /// ([`MAPPED_WINDOW_BYTES`], [`MAPPED_OVERREAD_BYTES`]; smaller in
    /// tests, to cross windows).
    pub window_bytes: usize,
    pub overread_bytes: usize,
    /// Workers that may still map the file; the last to stop gives the
    /// lease up.
    #[cfg(target_os = "linux")]
    mapping_workers: AtomicUsize,
    /// Windows mapped so far (for tests and statistics).
    windows_mapped: std::sync::atomic::AtomicU64,
}

impl<'f> Lease<'f> {
    /// Takes a read lease on `file` (opened read-only) for `workers`
    /// readers, or `None` when the file cannot be leased or the lease
    /// would not protect a mapping (see the module's documentation).
    #[cfg(target_os = "linux")]
    pub fn take(file: &'f File, workers: usize) -> Option<Self> {
        use std::os::fd::AsRawFd;
        let break_seconds: u64 = std::fs::read_to_string(LEASE_BREAK_TIME)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        if break_seconds < MIN_LEASE_BREAK_SECONDS || !urg_is_ignored() {
            return None;
        }
        let fd = file.as_raw_fd();
        // SAFETY: fcntl on a descriptor this `File` owns and keeps open for
        // the lease's lifetime; no memory is passed.
        let leased = unsafe {
            libc::fcntl(fd, F_SETSIG, libc::SIGURG) == 0
                && libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) == 0
        };
        leased.then(|| Self {
            file,
            window_bytes: MAPPED_WINDOW_BYTES,
            overread_bytes: MAPPED_OVERREAD_BYTES,
            mapping_workers: AtomicUsize::new(workers.max(1)),
            windows_mapped: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// No leases off Linux: plain files are read with positional reads.
    #[cfg(not(target_os = "linux"))]
    pub fn take(_file: &'f File, _workers: usize) -> Option<Self> {
        None
    }

    /// Whether the lease is held and not breaking: no process is waiting
    /// to write to or truncate the file.
    #[cfg(target_os = "linux")]
    pub fn holds(&self) -> bool {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `take`.
        unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_GETLEASE) == libc::F_RDLCK }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn holds(&self) -> bool {
        false
    }

    /// Maps `len` bytes of the file from `offset`, or `None` when the lease
    /// no longer holds (a worker then stops mapping: [`Lease::stop_mapping`])
    /// or the mapping fails.
    pub fn map(&self, offset: u64, len: usize) -> Option<memmap2::Mmap> {
        if !self.holds() {
            return None;
        }
        // SAFETY: the file cannot shrink under this mapping: the lease held
        // a moment ago, so a process that truncates or opens the file for
        // writing from now on waits for the lease (at least
        // MIN_LEASE_BREAK_SECONDS, checked in `take`), and the worker drops
        // the mapping within milliseconds and maps no more once the lease
        // is breaking. Bytes past the file's end are never asked for.
        let mapped = unsafe {
            memmap2::MmapOptions::new()
                .offset(offset)
                .len(len)
                .populate()
                .map(self.file)
        };
        if mapped.is_ok() {
            self.windows_mapped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        mapped.ok()
    }

    /// How many windows were mapped.
    pub fn windows_mapped(&self) -> u64 {
        self.windows_mapped
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Called once by each worker when it will map no more (the lease
    /// broke, or its reading is done): the last one gives the lease up, so
    /// a process waiting to write to the file goes on.
    pub fn stop_mapping(&self) {
        #[cfg(target_os = "linux")]
        if self.mapping_workers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.release();
        }
    }

    #[cfg(target_os = "linux")]
    fn release(&self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `take`. Giving up a lease already given up is a
        // no-op.
        unsafe {
            libc::fcntl(self.file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        self.release();
    }
}

/// Whether `SIGURG`, the lease's signal, is ignored by this process (the
/// default): a program that handles it would be called on a lease break.
#[cfg(target_os = "linux")]
fn urg_is_ignored() -> bool {
    let mut current = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: with a null new action, sigaction only writes the current
    // one into `current`, which is large enough for it.
    let read = unsafe { libc::sigaction(libc::SIGURG, std::ptr::null(), current.as_mut_ptr()) };
    if read != 0 {
        return false;
    }
    // SAFETY: sigaction succeeded and filled it in.
    let handler = unsafe { current.assume_init() }.sa_sigaction;
    handler == libc::SIG_DFL || handler == libc::SIG_IGN
}

/// Runs coreutils' `truncate -s 0` on `path` in another process, which
/// opens the file with `O_NONBLOCK`: refused at once while a lease on the
/// file holds (and the lease then breaks), instead of waiting for it.
/// Whether it truncated the file.
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn truncate_elsewhere(path: &std::path::Path) -> bool {
    std::process::Command::new("truncate")
        .args(["-s", "0"])
        .arg(path)
        .output()
        .expect("run truncate")
        .status
        .success()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lease is taken on a file this process owns, holds, maps what was
    /// written, and reads as breaking once another process tries to write
    /// the file; the other process is refused (it opens without blocking)
    /// and the file keeps its bytes.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_lease_maps_the_file_and_breaks_when_another_process_would_truncate_it() {
        use std::io::Write;
        let mut file = tempfile::NamedTempFile::new().expect("temporary file");
        file.write_all(b"one\ntwo\n").expect("write");
        let path = file.path().to_path_buf();
        let reader = File::open(&path).expect("open for reading");
        let writer_open = Lease::take(&reader, 1);
        assert!(
            writer_open.is_none(),
            "a lease is refused while the file is open for writing"
        );
        drop(file.into_temp_path().keep().expect("keep the file"));
        let lease = Lease::take(&reader, 1).expect("a lease on a file this process owns");
        assert!(lease.holds());
        let map = lease.map(0, 8).expect("a mapping while the lease holds");
        assert_eq!(&map[..], b"one\ntwo\n");
        drop(map);
        assert!(
            !truncate_elsewhere(&path),
            "the lease holds the truncation back"
        );
        assert!(!lease.holds(), "the lease reads as breaking");
        assert!(
            lease.map(0, 8).is_none(),
            "no mapping once the lease breaks"
        );
        assert_eq!(std::fs::metadata(&path).expect("metadata").len(), 8);
        lease.stop_mapping();
        drop(lease);
        assert!(
            truncate_elsewhere(&path),
            "the lease given up, the truncation goes on"
        );
        std::fs::remove_file(&path).expect("remove the file");
    }
}
