//! Scoring found incidents against labelled anomaly windows, the way the
//! Numenta Anomaly Benchmark labels them (Lavin & Ahmad, "Evaluating
//! real-time anomaly detection algorithms — the Numenta Anomaly Benchmark",
//! ICMLA 2015): a window is found when an incident overlaps it; an incident
//! that overlaps no window is a false incident. NAB's own score also weighs
//! how early in the window a detection comes; the two counts are what a
//! postmortem needs (was the outage there, and was anything invented).
//!
//! As NAB's scorer does, incidents that begin in a series' probationary
//! period (its first 15% of points, at most 750: [`probation_points`]) are
//! not scored; they are counted apart (`in_probation`) so none is hidden.
//!
//! The Microsoft cloud monitoring set labels points, not windows: each run
//! of labelled points (runs at most [`LABEL_JOIN_POINTS`] points apart
//! joined) is one window ([`label_windows`]); it has no probationary
//! period.
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

/// NAB's probationary period: the first 15% of a series' points, at most
/// 750 (NAB `scorer.py`, `probationaryPercent` 0.15, capped at 750 points),
/// in which a detector is still learning and its detections are not scored.
pub const PROBATION_SHARE: f64 = 0.15;
pub const PROBATION_MAX_POINTS: usize = 750;

/// Labelled points of the Microsoft set at most this many points apart are
/// one window: an expert marking an outage hour by hour skips an hour now
/// and then.
pub const LABEL_JOIN_POINTS: usize = 3;

/// The counts for one series.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub windows: usize,
    pub windows_found: usize,
    /// Incidents scored (those after the probationary period).
    pub incidents: usize,
    pub false_incidents: usize,
    /// Incidents that began in the probationary period: not scored.
    pub in_probation: usize,
}

impl Score {
    pub fn add(&mut self, other: &Score) {
        self.windows += other.windows;
        self.windows_found += other.windows_found;
        self.incidents += other.incidents;
        self.false_incidents += other.false_incidents;
        self.in_probation += other.in_probation;
    }
}

/// How many leading points of a series of `points` are NAB's probationary
/// period.
pub fn probation_points(points: usize) -> usize {
    ((points as f64 * PROBATION_SHARE) as usize).min(PROBATION_MAX_POINTS)
}

/// Scores incidents `(start, end)` against windows `(start, end)`;
/// incidents beginning before `scored_from` are counted apart, not scored.
pub fn score(
    incidents: &[(Millis, Millis)],
    windows: &[(Millis, Millis)],
    scored_from: Millis,
) -> Score {
    let overlaps = |a: &(Millis, Millis), b: &(Millis, Millis)| a.0 <= b.1 && b.0 <= a.1;
    let in_probation = incidents.iter().filter(|i| i.0 < scored_from).count();
    let incidents: Vec<(Millis, Millis)> = incidents
        .iter()
        .copied()
        .filter(|i| i.0 >= scored_from)
        .collect();
    Score {
        in_probation,
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

/// A label file's time (`2014-07-10 12:29:00.000000`, `2018-07-03
/// 14:00:00`, `"2018-03-15T00:00:00Z"`), read as UTC.
fn label_time(text: &str) -> Option<Millis> {
    let text = text.trim().trim_matches('"').trim_end_matches('Z');
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

/// The times of a `time,value[,label]` CSV's rows and their labels (0 when
/// the row has none), in file order; rows whose time does not read are
/// left out.
pub fn read_rows(path: &Path) -> std::io::Result<Vec<(Millis, bool)>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cells = line.split(',');
            let at = label_time(cells.next()?)?;
            let labelled = cells.nth(1).is_some_and(|cell| cell.trim() == "1");
            Some((at, labelled))
        })
        .collect())
}

/// The windows of point labels: each run of labelled rows, runs at most
/// [`LABEL_JOIN_POINTS`] rows apart joined, from its first labelled time to
/// its last.
pub fn label_windows(rows: &[(Millis, bool)]) -> Vec<(Millis, Millis)> {
    let mut windows: Vec<(Millis, Millis)> = Vec::new();
    let mut last_labelled: Option<usize> = None;
    for (index, &(at, labelled)) in rows.iter().enumerate() {
        if !labelled {
            continue;
        }
        match (last_labelled, windows.last_mut()) {
            (Some(previous), Some(window)) if index - previous <= LABEL_JOIN_POINTS + 1 => {
                window.1 = at;
            }
            _ => windows.push((at, at)),
        }
        last_labelled = Some(index);
    }
    windows
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
        let path = nab.join("data").join(series);
        let incidents = incidents_of(&path)?;
        let rows = read_rows(&path)
            .map_err(|e| postmortem::Error::Usage(format!("{}: {e}", path.display())))?;
        let scored_from = rows
            .get(probation_points(rows.len()))
            .map_or(Millis::MIN, |row| row.0);
        scores.push((series.clone(), score(&incidents, labelled, scored_from)));
    }
    Ok(scores)
}

/// Every series of the Microsoft cloud monitoring set (`data/*/*.csv`,
/// `TimeStamp,Value,Label`), scored against the windows of its labels
/// ([`label_windows`]): `(domain/file, score)` in name order. The label
/// column is not read as a metric (the CSV reader leaves annotation
/// columns out).
pub fn score_microsoft(root: &Path) -> postmortem::Result<Vec<(String, Score)>> {
    let data = root.join("data");
    let io_error = |path: &Path, e: std::io::Error| {
        postmortem::Error::Usage(format!(
            "{}: {e}; expected the Microsoft cloud-monitoring-dataset checkout (data/DOMAIN/*.csv)",
            path.display()
        ))
    };
    let mut files = Vec::new();
    for domain in std::fs::read_dir(&data).map_err(|e| io_error(&data, e))? {
        let domain = domain.map_err(|e| io_error(&data, e))?.path();
        if !domain.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&domain).map_err(|e| io_error(&domain, e))? {
            let file = file.map_err(|e| io_error(&domain, e))?.path();
            if file.extension().is_some_and(|ext| ext == "csv") {
                files.push(file);
            }
        }
    }
    files.sort();
    let mut scores = Vec::new();
    for path in files {
        let rows = read_rows(&path).map_err(|e| io_error(&path, e))?;
        let incidents = incidents_of(&path)?;
        let name = path
            .strip_prefix(&data)
            .unwrap_or(&path)
            .display()
            .to_string();
        scores.push((name, score(&incidents, &label_windows(&rows), Millis::MIN)));
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
        let cases: [Case; 5] = [
            (
                "nothing found",
                vec![],
                Score {
                    windows: 2,
                    windows_found: 0,
                    ..Score::default()
                },
            ),
            (
                "one inside, one touching the edge",
                vec![(150, 160), (600, 700)],
                Score {
                    windows: 2,
                    windows_found: 2,
                    incidents: 2,
                    ..Score::default()
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
                    in_probation: 0,
                },
            ),
            (
                "one spanning both",
                vec![(0, 1000)],
                Score {
                    windows: 2,
                    windows_found: 2,
                    incidents: 1,
                    ..Score::default()
                },
            ),
            (
                "one in probation, not scored",
                vec![(-50, -40), (110, 120)],
                Score {
                    windows: 2,
                    windows_found: 1,
                    incidents: 1,
                    false_incidents: 0,
                    in_probation: 1,
                },
            ),
        ];
        for (name, incidents, expected) in cases {
            assert_eq!(score(&incidents, &windows, 0), expected, "{name}");
        }
    }

    #[test]
    fn probation_is_fifteen_percent_at_most_750_points() {
        let cases = [("short", 1000, 150), ("long", 22_695, 750), ("empty", 0, 0)];
        for (name, points, expected) in cases {
            assert_eq!(probation_points(points), expected, "{name}");
        }
    }

    #[test]
    fn point_labels_become_windows_joined_across_short_gaps() {
        let labels = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0];
        let rows: Vec<(Millis, bool)> = labels
            .iter()
            .enumerate()
            .map(|(i, &label)| (i as Millis * 10, label == 1))
            .collect();
        // 1-2 and 5 have two unlabelled rows between them (joined); 10
        // has four after 5 (a window of its own).
        assert_eq!(label_windows(&rows), [(10, 50), (100, 100)]);
        assert_eq!(
            label_time("\"2018-03-15T00:00:00Z\""),
            Some(1_521_072_000_000)
        );
        assert_eq!(
            label_time("2014-07-10 12:29:00.000000"),
            Some(1_404_995_340_000)
        );
    }
}
