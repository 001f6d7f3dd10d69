//! Scoring found incidents against labelled anomaly windows, the way the
//! Numenta Anomaly Benchmark labels them (Lavin & Ahmad, "Evaluating
//! real-time anomaly detection algorithms — the Numenta Anomaly Benchmark",
//! ICMLA 2015): a window is found when an incident overlaps it; an incident
//! that overlaps no window is a false incident. NAB's own score also weighs
//! how early in the window a detection comes; the two counts are what a
//! postmortem needs (was the outage there, and was anything invented).
//!
//! Used by `examples/nab_accuracy.rs` (the README's figures) and by the
//! dataset test that keeps them from regressing.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDateTime;

use postmortem::config::InputSpec;
use postmortem::progress::NoProgress;
use postmortem::timefmt::Millis;
use postmortem::{Config, analyze};

/// NAB's label times: `2014-07-10 12:29:00.000000`, UTC.
const LABEL_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// The counts for one series.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub windows: usize,
    pub windows_found: usize,
    pub incidents: usize,
    pub false_incidents: usize,
}

impl Score {
    pub fn add(&mut self, other: &Score) {
        self.windows += other.windows;
        self.windows_found += other.windows_found;
        self.incidents += other.incidents;
        self.false_incidents += other.false_incidents;
    }
}

/// Scores incidents `(start, end)` against windows `(start, end)`.
pub fn score(incidents: &[(Millis, Millis)], windows: &[(Millis, Millis)]) -> Score {
    let overlaps = |a: &(Millis, Millis), b: &(Millis, Millis)| a.0 <= b.1 && b.0 <= a.1;
    Score {
        windows: windows.len(),
        windows_found: windows
            .iter()
            .filter(|w| incidents.iter().any(|i| overlaps(i, w)))
            .count(),
        incidents: incidents.len(),
        false_incidents: incidents
            .iter()
            .filter(|i| !windows.iter().any(|w| overlaps(i, w)))
            .count(),
    }
}

/// `labels/combined_windows.json`: series path (`realKnownCause/x.csv`) to
/// its windows. `None` when the file does not read or has another shape.
pub fn read_windows(path: &Path) -> Option<BTreeMap<String, Vec<(Millis, Millis)>>> {
    let text = std::fs::read_to_string(path).ok()?;
    let raw: BTreeMap<String, Vec<(String, String)>> = serde_json::from_str(&text).ok()?;
    let time = |text: &str| {
        NaiveDateTime::parse_from_str(text, LABEL_TIME_FORMAT)
            .ok()
            .map(|t| t.and_utc().timestamp_millis())
    };
    raw.into_iter()
        .map(|(series, windows)| {
            let windows = windows
                .iter()
                .map(|(from, to)| Some((time(from)?, time(to)?)))
                .collect::<Option<Vec<_>>>()?;
            Some((series, windows))
        })
        .collect()
}

/// The incidents `postmortem report` finds in one metric CSV alone.
pub fn incidents_of(csv: &Path) -> postmortem::Result<Vec<(Millis, Millis)>> {
    let config = Config::for_inputs(vec![InputSpec::Path(csv.to_path_buf())]);
    let analysis = analyze(&config, &NoProgress)?;
    Ok(analysis
        .incidents
        .iter()
        .map(|report| (report.incident.start, report.incident.end))
        .collect())
}

/// Every series of `category` (e.g. `realKnownCause`) under a NAB checkout
/// (`data/`, `labels/`), scored: `(series, score)` in name order.
pub fn score_category(nab: &Path, category: &str) -> postmortem::Result<Vec<(String, Score)>> {
    let windows = read_windows(&nab.join("labels/combined_windows.json")).ok_or_else(|| {
        postmortem::Error::Usage(format!(
            "{}: expected NAB's labels/combined_windows.json (series name to [start, end] pairs)",
            nab.display()
        ))
    })?;
    let mut scores = Vec::new();
    for (series, labelled) in windows
        .iter()
        .filter(|(name, _)| name.starts_with(&format!("{category}/")))
    {
        let incidents = incidents_of(&nab.join("data").join(series))?;
        scores.push((series.clone(), score(&incidents, labelled)));
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_found_and_false_incidents() {
        let windows = [(100, 200), (500, 600)];
        type Case = (&'static str, Vec<(Millis, Millis)>, Score);
        let cases: [Case; 4] = [
            (
                "nothing found",
                vec![],
                Score {
                    windows: 2,
                    windows_found: 0,
                    incidents: 0,
                    false_incidents: 0,
                },
            ),
            (
                "one inside, one touching the edge",
                vec![(150, 160), (600, 700)],
                Score {
                    windows: 2,
                    windows_found: 2,
                    incidents: 2,
                    false_incidents: 0,
                },
            ),
            (
                "one false, two in the same window",
                vec![(10, 20), (110, 120), (130, 140)],
                Score {
                    windows: 2,
                    windows_found: 1,
                    incidents: 3,
                    false_incidents: 1,
                },
            ),
            (
                "one spanning both",
                vec![(0, 1000)],
                Score {
                    windows: 2,
                    windows_found: 2,
                    incidents: 1,
                    false_incidents: 0,
                },
            ),
        ];
        for (name, incidents, expected) in cases {
            assert_eq!(score(&incidents, &windows), expected, "{name}");
        }
    }
}
