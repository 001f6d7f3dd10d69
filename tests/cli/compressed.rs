//! Rotated logs compressed with gzip and zstd, found by content whatever
//! their names: a folder of rotations gives the exact request count of its
//! lines, and a compression that is not read is named, not misread.

use std::io::Write;

use super::support::{json_report, run, scratch};

/// One rotation's lines: `lines` requests of nginx `combined`, one a second
/// from `first_second` after 10:00, every fifth a 502.
fn rotation(first_second: u64, lines: u64) -> Vec<u8> {
    (first_second..first_second + lines)
        .flat_map(|second| {
            let status = if second % 5 == 0 { 502 } else { 200 };
            format!(
                "10.2.{}.{} - - [12/Mar/2024:{:02}:{:02}:{:02} +0000] \"GET /s/{second} HTTP/1.1\" {status} 99 \"-\" \"wget\"\n",
                second / 200,
                second % 200,
                10 + second / 3600,
                second / 60 % 60,
                second % 60
            )
            .into_bytes()
        })
        .collect()
}

/// How a rotation is stored: its lines in, the file's bytes out.
type Store = fn(&[u8]) -> Vec<u8>;

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text).expect("vec");
    encoder.finish().expect("vec")
}

fn zstd(text: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(text, 3).expect("vec")
}

#[test]
fn a_folder_of_gzip_and_zstd_rotations_counts_every_line_once() {
    let dir = scratch();
    // (file name, its first second, its lines, how it is stored)
    let files: [(&str, u64, u64, Store); 5] = [
        ("access.log.4.zst", 0, 500, zstd),
        ("access.log.3.gz", 500, 400, gzip),
        // logrotate's `compressext` may be anything: found by content.
        ("access.log.2", 900, 300, zstd),
        ("access.log.1", 1_200, 200, |text| text.to_vec()),
        ("access.log", 1_400, 100, |text| text.to_vec()),
    ];
    for (name, first, lines, store) in files {
        std::fs::write(dir.path().join(name), store(&rotation(first, lines))).expect("write");
    }
    let report = json_report(&[dir.path().to_str().expect("utf-8 path")]);
    let inputs = report["inputs"].as_array().expect("inputs");
    for (name, _, lines, _) in files {
        let input = inputs
            .iter()
            .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} is an input"));
        assert_eq!(input["parsed"], lines, "{name}: requests");
        assert_eq!(input["skipped"], 0, "{name}: skipped");
    }
    let compressed: Vec<bool> = inputs
        .iter()
        .map(|i| i["compressed"].as_bool().expect("compressed"))
        .collect();
    assert_eq!(compressed.iter().filter(|c| **c).count(), 3);
    let requests: u64 = inputs
        .iter()
        .map(|i| i["parsed"].as_u64().expect("n"))
        .sum();
    assert_eq!(requests, 1_500);
}

#[test]
fn an_xz_rotation_is_named_as_such_not_read_as_lines() {
    let dir = scratch();
    std::fs::write(dir.path().join("access.log"), rotation(0, 50)).expect("write");
    // The first bytes of any xz file (the stream header's magic).
    let xz = [0xfd, b'7', b'z', b'X', b'Z', 0x00, 0x00, 0x04, 0xe6, 0xd6];
    std::fs::write(dir.path().join("access.log.1.xz"), xz).expect("write");
    let output = run(&[
        "inspect",
        "--format",
        "json",
        dir.path().to_str().expect("path"),
    ]);
    assert!(output.status.success(), "{output:?}");
    let inspection: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let xz_input = inspection["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(".xz")))
        .expect("the xz file is listed");
    assert_eq!(
        xz_input["error"],
        "cannot be read: compressed with xz, which is not read (gzip and zstd are): decompress it first (unxz -k FILE) and give the result"
    );
    assert_eq!(xz_input["lines"], 0);
}

/// Every position the progress bar was given, and the total it began with.
#[derive(Default)]
struct RecordedProgress {
    total: std::sync::Mutex<Option<u64>>,
    positions: std::sync::Mutex<Vec<u64>>,
}

impl postmortem::Progress for RecordedProgress {
    fn begin(&self, total_bytes: Option<u64>) {
        if let Ok(mut total) = self.total.lock() {
            *total = total_bytes;
        }
    }

    fn set_position(&self, bytes: u64) {
        if let Ok(mut positions) = self.positions.lock() {
            positions.push(bytes);
        }
    }
}

#[test]
fn progress_counts_the_bytes_on_disk_of_compressed_inputs() {
    // A mix whose decoded size is far from its size on disk: the bar's
    // length is the files' sizes on disk, and its position reaches each
    // file's end on disk in turn (gzip and zstd by their compressed bytes),
    // so the ETA is honest across a mix.
    let dir = scratch();
    // (file name, its first second, its lines, how it is stored), in the
    // order the folder is read.
    let files: [(&str, u64, u64, Store); 3] = [
        ("access.log", 3_000, 1_000, |text| text.to_vec()),
        ("access.log.1.gz", 1_500, 1_500, gzip),
        ("access.log.2.zst", 0, 1_500, zstd),
    ];
    let mut ends_on_disk = Vec::new();
    let mut on_disk = 0u64;
    let mut decoded = 0u64;
    for (name, first, lines, store) in files {
        let text = rotation(first, lines);
        let bytes = store(&text);
        decoded += text.len() as u64;
        on_disk += bytes.len() as u64;
        ends_on_disk.push(on_disk);
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    assert!(
        decoded > 2 * on_disk,
        "compressed well: {decoded} vs {on_disk}"
    );
    let progress = RecordedProgress::default();
    let config =
        postmortem::Config::for_inputs(vec![postmortem::InputSpec::Path(dir.path().to_path_buf())]);
    postmortem::analyze(&config, &progress).expect("a report");
    assert_eq!(*progress.total.lock().expect("total"), Some(on_disk));
    let positions = progress.positions.lock().expect("positions").clone();
    assert!(
        positions.windows(2).all(|pair| pair[0] <= pair[1]),
        "never backwards: {positions:?}"
    );
    assert_eq!(positions.last(), Some(&on_disk), "ends at the total");
    for end in ends_on_disk {
        assert!(
            positions.contains(&end),
            "reaches {end}, a file's end on disk: {positions:?}"
        );
    }
}
