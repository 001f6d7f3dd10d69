//! `cargo bench --bench inflate_floor -- FILE.gz [--library zlib-rs|libdeflate]`:
//! the inflate floor, the time inflating a `.gz` alone takes on one thread
//! with nothing parsed, which `postmortem report` on the same file is held
//! against (issue 18: within 1.2x of it). `zlib-rs` is the library and the
//! streaming decoder postmortem reads gzip with (flate2's `MultiGzDecoder`,
//! 1 MiB reads, as the reader thread does); `libdeflate` is the
//! whole-member alternative measured against it (the whole file in memory,
//! the whole output in one buffer sized from the gzip trailer). Run it under
//! `taskset -c 0 /usr/bin/time` for one core and CPU time
//! (`benches/end_to_end.sh` does).

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use flate2::bufread::MultiGzDecoder;

/// Bytes read at a time from the decoder: the pipeline's chunk size.
const READ_BYTES: usize = 1 << 20;
/// Buffer in front of the file: the reader's.
const FILE_BUFFER_BYTES: usize = 128 << 10;

const USAGE: &str =
    "usage: cargo bench --bench inflate_floor -- FILE.gz [--library zlib-rs|libdeflate]";

fn main() -> ExitCode {
    let mut path = None;
    let mut library = "zlib-rs".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--library" => match args.next() {
                Some(value) => library = value,
                None => {
                    eprintln!("inflate_floor: --library needs a value; {USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--bench" => {}
            other => path = Some(other.to_string()),
        }
    }
    let Some(path) = path else {
        eprintln!("inflate_floor: no file given; {USAGE}");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let inflated = match library.as_str() {
        "zlib-rs" => zlib_rs(&path),
        "libdeflate" => libdeflate(&path),
        other => Err(format!("unknown library '{other}'; {USAGE}")),
    };
    match inflated {
        Ok(bytes) => {
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{library}: {path}: {bytes} bytes inflated in {seconds:.3} s ({:.0} MB/s)",
                bytes as f64 / seconds / 1e6
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("inflate_floor: {path}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Inflates every member as postmortem's reader does; returns the bytes.
fn zlib_rs(path: &str) -> Result<u64, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut decoder =
        MultiGzDecoder::new(std::io::BufReader::with_capacity(FILE_BUFFER_BYTES, file));
    let mut buffer = vec![0u8; READ_BYTES];
    let mut total = 0u64;
    loop {
        match decoder.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) => return Err(format!("inflating failed after {total} bytes: {e}")),
        }
    }
}

/// Inflates the first member whole with libdeflate; returns the bytes.
fn libdeflate(path: &str) -> Result<u64, String> {
    let compressed = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    // ISIZE, the member's size modulo 2^32 (RFC 1952): right for one
    // member under 4 GiB, which is what this measures.
    let trailer: [u8; 4] = compressed
        .get(compressed.len().saturating_sub(4)..)
        .and_then(|t| t.try_into().ok())
        .ok_or("shorter than a gzip trailer")?;
    let size = u32::from_le_bytes(trailer) as usize;
    let mut out = vec![0u8; size];
    let mut decompressor = libdeflater::Decompressor::new();
    let n = decompressor
        .gzip_decompress(&compressed, &mut out)
        .map_err(|e| format!("libdeflate: {e:?} (one member under 4 GiB is expected)"))?;
    Ok(n as u64)
}
