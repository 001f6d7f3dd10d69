//! The chart (`report --chart FILE.svg`): the picture responders otherwise
//! build by hand in Grafana. Three stacked panels on one time axis in the
//! logs' zone (requests per minute, bad-request ratio, p95 latency), each
//! incident shaded, an observed detection drawn as an orange dashed line, a
//! replayed rule's firing as a grey dotted one, and changes from the
//! timeline as thin lines. Drawn with plotters' SVG backend into a string;
//! the binary writes it to disk. The two custom axes are in [`axes`].

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod axes;

use axes::{LatencyAxis, TimeAxis, compact, date_text, seconds_label, zone_text};

use crate::detect::{DetectionSource, Findings, TimelineKind};
use crate::series::LatencyHistogram;
use crate::timefmt::{MS_PER_MINUTE, Millis, local_time};

/// Size of the picture in pixels: wide enough for a day of minutes to
/// show structure, tall enough for three readable panels.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 860;

/// Most points drawn per series. Longer series are merged into wider
/// buckets first (counts add, latency histograms merge), so a year of
/// one-minute buckets still gives a small file with exact ratios.
pub const MAX_POINTS: usize = 1500;

/// Height of the title and legend band at the top.
const HEADER_PX: u32 = 64;

/// Most x-axis labels: one every 100 px or so.
const MAX_X_LABELS: usize = 12;

/// Headroom above the highest value of a panel, so peaks do not touch the frame.
const HEADROOM: f64 = 1.12;

/// Headroom of the log-scale latency panel: a factor, as the axis is.
const LOG_HEADROOM: f64 = 2.0;

/// The lowest latency the log-scale axis shows: one millisecond.
const MIN_LATENCY_AXIS_S: f64 = 0.001;

/// The ratio panel never reaches past this (100% and a little room).
const RATIO_TOP_PCT: f64 = 105.0;

const FONT: &str = "sans-serif";

const REQUESTS_COLOR: RGBColor = RGBColor(31, 119, 180);
const BAD_COLOR: RGBColor = RGBColor(214, 39, 40);
const FAILED_COLOR: RGBColor = RGBColor(140, 20, 20);
const LATENCY_COLOR: RGBColor = RGBColor(44, 130, 60);
const THRESHOLD_COLOR: RGBColor = RGBColor(120, 120, 120);
const INCIDENT_COLOR: RGBColor = RGBColor(214, 39, 40);
const DETECTED_COLOR: RGBColor = RGBColor(230, 120, 0);
/// A replayed rule is a guess, not an observation: grey and dotted, so it
/// never reads as the orange dashes of a detection someone saw.
const REPLAYED_COLOR: RGBColor = RGBColor(110, 110, 110);
/// Dash and gap of an observed detection, and of a replayed one (dots).
const OBSERVED_DASH: (u32, u32) = (6, 4);
const REPLAYED_DASH: (u32, u32) = (2, 4);
const CHANGE_COLOR: RGBColor = RGBColor(117, 60, 170);
const TEXT_COLOR: RGBColor = RGBColor(30, 30, 30);

/// Estimated width of one legend character at 13 px (sans-serif), to
/// space the legend items.
const LEGEND_CHAR_PX: i32 = 6;

/// Opacity of the incident shading.
const INCIDENT_ALPHA: f64 = 0.13;

/// Why the chart could not be drawn (a plotters error, as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot draw the chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

fn chart_error<E: std::fmt::Debug>(error: E) -> ChartError {
    ChartError(format!("{error:?}"))
}

/// One point of the drawn series (possibly several buckets merged).
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    /// The middle of the merged bucket.
    pub at: Millis,
    pub requests_per_minute: f64,
    /// Bad (failed or slow) share in percent; `None` without requests.
    pub bad_pct: Option<f64>,
    /// Failed share in percent; `None` without requests.
    pub failed_pct: Option<f64>,
    /// p95 latency in seconds; `None` where no request time was logged.
    pub p95_s: Option<f64>,
}

/// The series to draw: buckets merged in groups so at most [`MAX_POINTS`] remain.
pub fn chart_points(findings: &Findings) -> Vec<ChartPoint> {
    let series = &findings.series;
    let buckets = series.buckets.len();
    if buckets == 0 {
        return Vec::new();
    }
    let group = buckets.div_ceil(MAX_POINTS).max(1);
    let minutes_per_bucket = series.bucket_ms as f64 / MS_PER_MINUTE as f64;
    let mut points = Vec::with_capacity(buckets.div_ceil(group));
    for first in (0..buckets).step_by(group) {
        let last = (first + group).min(buckets);
        let (mut requests, mut failed, mut bad) = (0u64, 0u64, 0u64);
        let mut latency = LatencyHistogram::default();
        for index in first..last {
            let counts = &findings.counts[index];
            requests += counts.requests;
            failed += counts.failed;
            bad += counts.bad();
            latency.merge(&series.buckets[index].latency);
        }
        let width = (last - first) as i64 * series.bucket_ms;
        let share = |part: u64| (requests > 0).then(|| 100.0 * part as f64 / requests as f64);
        points.push(ChartPoint {
            at: series.bucket_start(first) + width / 2,
            requests_per_minute: requests as f64 / (minutes_per_bucket * (last - first) as f64),
            bad_pct: share(bad),
            failed_pct: share(failed),
            p95_s: latency.quantile(0.95).map(|us| us / 1e6),
        });
    }
    points
}

/// What is marked on every panel.
struct Marks {
    incidents: Vec<(Millis, Millis)>,
    /// Detections someone or something saw: an alert line, `--detected-at`.
    detections: Vec<Millis>,
    /// When a standard alert rule, replayed over the series, would have fired.
    replayed: Vec<Millis>,
    changes: Vec<Millis>,
}

fn marks(findings: &Findings) -> Marks {
    let mut changes: Vec<Millis> = findings
        .incidents
        .iter()
        .flat_map(|r| r.timeline.iter())
        .filter(|e| e.kind == TimelineKind::Change)
        .map(|e| e.at)
        .collect();
    changes.sort_unstable();
    changes.dedup();
    Marks {
        incidents: findings
            .incidents
            .iter()
            .map(|r| (r.incident.start, r.incident.end))
            .collect(),
        detections: detection_times(findings, false),
        replayed: detection_times(findings, true),
        changes,
    }
}

/// The chart as an SVG document.
pub fn render_svg(findings: &Findings) -> Result<String, ChartError> {
    let points = chart_points(findings);
    let series = &findings.series;
    let (start, end) = if series.buckets.is_empty() {
        let first = findings.inputs.iter().filter_map(|i| i.first).min();
        let last = findings.inputs.iter().filter_map(|i| i.last).max();
        (
            first.unwrap_or(0),
            last.unwrap_or(0).max(first.unwrap_or(0) + MS_PER_MINUTE),
        )
    } else {
        (series.start, series.bucket_start(series.buckets.len()))
    };
    let zone = findings.zone;
    let multi_day = local_time(start, &zone).date() != local_time(end - 1, &zone).date();
    let axis = TimeAxis {
        start,
        end,
        zone,
        multi_day,
    };
    let marks = marks(findings);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let (header, body) = root.split_vertically(HEADER_PX);
        draw_header(&header, findings, &marks, &axis)?;
        let panels = body.split_evenly((3, 1));
        let requests: Vec<(Millis, f64)> = points
            .iter()
            .map(|p| (p.at, p.requests_per_minute))
            .collect();
        let bad: Vec<(Millis, Option<f64>)> = points.iter().map(|p| (p.at, p.bad_pct)).collect();
        let failed: Vec<(Millis, Option<f64>)> =
            points.iter().map(|p| (p.at, p.failed_pct)).collect();
        let p95: Vec<(Millis, Option<f64>)> = points.iter().map(|p| (p.at, p.p95_s)).collect();
        let threshold_s = findings.slow_threshold_us as f64 / 1e6;

        let max_requests = requests.iter().map(|p| p.1).fold(0.0, f64::max);
        let requests_top = panel_top(max_requests.max(1.0));
        let mut chart = panel(&panels[0], axis, 0.0..requests_top, false)?;
        mesh(&mut chart, "requests / min", false, &|v| compact(*v), &axis)?;
        draw_marks(&mut chart, &marks, (0.0, requests_top))?;
        chart
            .draw_series(
                AreaSeries::new(requests.iter().copied(), 0.0, REQUESTS_COLOR.mix(0.25))
                    .border_style(REQUESTS_COLOR.stroke_width(2)),
            )
            .map_err(chart_error)?;

        // Number the shaded periods as the Markdown numbers its incidents.
        if marks.incidents.len() > 1 {
            for (index, &(incident_start, _)) in marks.incidents.iter().enumerate() {
                chart
                    .plotting_area()
                    .draw(&Text::new(
                        format!(" {}", index + 1),
                        (incident_start, requests_top),
                        (FONT, 15)
                            .into_font()
                            .color(&FAILED_COLOR)
                            .pos(Pos::new(HPos::Left, VPos::Top)),
                    ))
                    .map_err(chart_error)?;
            }
        }

        let max_ratio = bad.iter().filter_map(|p| p.1).fold(0.0, f64::max);
        let ratio_top = panel_top(max_ratio.max(1.0)).min(RATIO_TOP_PCT);
        let mut chart = panel(&panels[1], axis, 0.0..ratio_top, false)?;
        let ratio_label = |v: &f64| {
            if ratio_top <= 5.0 {
                format!("{v:.1}%")
            } else {
                format!("{v:.0}%")
            }
        };
        mesh(&mut chart, "bad requests", false, &ratio_label, &axis)?;
        draw_marks(&mut chart, &marks, (0.0, ratio_top))?;
        for segment in segments(&failed) {
            chart
                .draw_series(LineSeries::new(segment, FAILED_COLOR.stroke_width(1)))
                .map_err(chart_error)?;
        }
        for segment in segments(&bad) {
            chart
                .draw_series(LineSeries::new(segment, BAD_COLOR.stroke_width(2)))
                .map_err(chart_error)?;
        }

        let max_latency = p95.iter().filter_map(|p| p.1).fold(0.0, f64::max);
        // Latency on a log scale: the baseline (tenths of a second), the
        // slow band (seconds) and timeouts (a minute) all stay readable.
        let latency_top = max_latency.max(threshold_s).max(MIN_LATENCY_AXIS_S) * LOG_HEADROOM;
        let min_latency = p95
            .iter()
            .filter_map(|p| p.1)
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let latency_bottom = latency_floor(min_latency, threshold_s);
        let mut chart = panel(
            &panels[2],
            axis,
            LatencyAxis {
                low: latency_bottom,
                high: latency_top,
            },
            true,
        )?;
        let latency_label = |v: &f64| seconds_label(*v);
        mesh(&mut chart, "p95 latency", true, &latency_label, &axis)?;
        draw_marks(&mut chart, &marks, (latency_bottom, latency_top))?;
        chart
            .draw_series(DashedLineSeries::new(
                [(start, threshold_s), (end, threshold_s)],
                8,
                5,
                THRESHOLD_COLOR.stroke_width(1),
            ))
            .map_err(chart_error)?;
        for segment in segments(&p95) {
            chart
                .draw_series(LineSeries::new(segment, LATENCY_COLOR.stroke_width(2)))
                .map_err(chart_error)?;
        }
        chart
            .plotting_area()
            .draw(&Text::new(
                format!("slow threshold {}", seconds_label(threshold_s)),
                (start, threshold_s),
                (FONT, 12)
                    .into_font()
                    .color(&THRESHOLD_COLOR)
                    .pos(Pos::new(HPos::Left, VPos::Bottom)),
            ))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

type Panel<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<TimeAxis, Y>>;

fn panel<'a, 'b, Y: AsRangedCoord<Value = f64>>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    axis: TimeAxis,
    y_range: Y,
    bottom: bool,
) -> Result<Panel<'a, 'b, Y::CoordDescType>, ChartError> {
    ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(24)
        .margin_top(8)
        .margin_bottom(if bottom { 4 } else { 2 })
        .x_label_area_size(if bottom { 44 } else { 22 })
        .y_label_area_size(78)
        .build_cartesian_2d(axis, y_range)
        .map_err(chart_error)
}

fn mesh<Y: Ranged<ValueType = f64> + ValueFormatter<f64>>(
    chart: &mut Panel<'_, '_, Y>,
    description: &str,
    bottom: bool,
    y_label: &dyn Fn(&f64) -> String,
    axis: &TimeAxis,
) -> Result<(), ChartError> {
    let x_description = format!("Time ({}){}", zone_text(axis), date_text(axis));
    let mut style = chart.configure_mesh();
    style
        .x_labels(MAX_X_LABELS)
        .y_labels(5)
        .y_label_formatter(y_label)
        .y_desc(description)
        .label_style((FONT, 13).into_font().color(&TEXT_COLOR))
        .axis_desc_style((FONT, 14).into_font().color(&TEXT_COLOR))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08));
    if bottom {
        style.x_desc(x_description);
    }
    style.draw().map_err(chart_error)
}

/// The incidents' detection times, the replayed or the observed ones.
fn detection_times(findings: &Findings, replayed: bool) -> Vec<Millis> {
    findings
        .incidents
        .iter()
        .filter_map(|r| r.detected.as_ref())
        .filter(|d| (d.source == DetectionSource::Rule) == replayed)
        .map(|d| d.at)
        .collect()
}

/// Incident shading, detection and change lines on one panel.
fn draw_marks<Y: Ranged<ValueType = f64>>(
    chart: &mut Panel<'_, '_, Y>,
    marks: &Marks,
    (bottom, top): (f64, f64),
) -> Result<(), ChartError> {
    chart
        .draw_series(marks.incidents.iter().map(|&(start, end)| {
            Rectangle::new(
                [(start, bottom), (end, top)],
                INCIDENT_COLOR.mix(INCIDENT_ALPHA).filled(),
            )
        }))
        .map_err(chart_error)?;
    for &at in &marks.changes {
        chart
            .draw_series(LineSeries::new(
                [(at, bottom), (at, top)],
                CHANGE_COLOR.mix(0.8).stroke_width(1),
            ))
            .map_err(chart_error)?;
    }
    let lines = [
        (&marks.detections, OBSERVED_DASH, DETECTED_COLOR),
        (&marks.replayed, REPLAYED_DASH, REPLAYED_COLOR),
    ];
    for (times, (dash, gap), color) in lines {
        for &at in times {
            chart
                .draw_series(DashedLineSeries::new(
                    [(at, bottom), (at, top)],
                    dash,
                    gap,
                    color.stroke_width(2),
                ))
                .map_err(chart_error)?;
        }
    }
    Ok(())
}

/// Title and legend above the panels.
fn draw_header(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    findings: &Findings,
    marks: &Marks,
    axis: &TimeAxis,
) -> Result<(), ChartError> {
    let title = format!(
        "{} · {}{}",
        findings.access_source(),
        match marks.incidents.len() {
            0 => "no incident found".to_string(),
            1 => "1 incident".to_string(),
            n => format!("{n} incidents"),
        },
        date_text(axis).replacen(", ", " · ", 1)
    );
    area.draw(&Text::new(
        title,
        (20, 10),
        (FONT, 18).into_font().color(&TEXT_COLOR),
    ))
    .map_err(chart_error)?;
    let legend_y = 42;
    let mut x = 20;
    let label_style = (FONT, 13).into_font().color(&TEXT_COLOR);
    let mut item =
        |draw: &dyn Fn(i32) -> Result<(), ChartError>, text: &str| -> Result<(), ChartError> {
            draw(x)?;
            area.draw(&Text::new(
                text.to_string(),
                (x + 26, legend_y - 7),
                label_style.clone(),
            ))
            .map_err(chart_error)?;
            x += 40 + LEGEND_CHAR_PX * text.chars().count() as i32;
            Ok(())
        };
    let line = |color: RGBColor, width: u32| {
        move |x: i32| -> Result<(), ChartError> {
            area.draw(&PathElement::new(
                vec![(x, legend_y), (x + 20, legend_y)],
                color.stroke_width(width),
            ))
            .map_err(chart_error)
        }
    };
    item(&line(REQUESTS_COLOR, 3), "requests per minute")?;
    item(&line(BAD_COLOR, 3), "bad (failed or slow)")?;
    item(&line(FAILED_COLOR, 1), "failed (5xx, 499)")?;
    item(&line(LATENCY_COLOR, 3), "p95 latency")?;
    if !marks.incidents.is_empty() {
        item(
            &|x: i32| {
                area.draw(&Rectangle::new(
                    [(x, legend_y - 7), (x + 20, legend_y + 7)],
                    INCIDENT_COLOR.mix(INCIDENT_ALPHA * 2.0).filled(),
                ))
                .map_err(chart_error)
            },
            "incident",
        )?;
    }
    if !marks.detections.is_empty() {
        item(
            &|x: i32| {
                area.draw(&PathElement::new(
                    vec![(x, legend_y), (x + 6, legend_y)],
                    DETECTED_COLOR.stroke_width(3),
                ))
                .map_err(chart_error)?;
                area.draw(&PathElement::new(
                    vec![(x + 11, legend_y), (x + 20, legend_y)],
                    DETECTED_COLOR.stroke_width(3),
                ))
                .map_err(chart_error)
            },
            "detected",
        )?;
    }
    if !marks.replayed.is_empty() {
        item(
            &|x: i32| {
                for dot in [0, 6, 12, 18] {
                    area.draw(&PathElement::new(
                        vec![(x + dot, legend_y), (x + dot + 2, legend_y)],
                        REPLAYED_COLOR.stroke_width(3),
                    ))
                    .map_err(chart_error)?;
                }
                Ok(())
            },
            "an alert rule would have fired (replay)",
        )?;
    }
    if !marks.changes.is_empty() {
        item(&line(CHANGE_COLOR, 2), "change")?;
    }
    Ok(())
}

/// Runs of consecutive known values, so gaps stay gaps.
fn segments(points: &[(Millis, Option<f64>)]) -> Vec<Vec<(Millis, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for &(at, value) in points {
        match value {
            Some(v) => current.push((at, v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The top of a panel: the highest value with [`HEADROOM`] (plotters puts
/// round ticks inside it).
fn panel_top(highest: f64) -> f64 {
    if highest.is_finite() && highest > 0.0 {
        highest * HEADROOM
    } else {
        1.0
    }
}

/// The bottom of the log-scale latency panel: a little below the fastest
/// p95, never above half the slow threshold, never below a millisecond.
fn latency_floor(fastest_p95_s: f64, threshold_s: f64) -> f64 {
    let below_fastest = if fastest_p95_s.is_finite() {
        fastest_p95_s / 1.5
    } else {
        threshold_s / 10.0
    };
    below_fastest.min(threshold_s / 2.0).max(MIN_LATENCY_AXIS_S)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panel_tops_leave_headroom() {
        let cases = [
            ("forty", 40.0, 44.8),
            ("zero gets a unit range", 0.0, 1.0),
            ("not a number", f64::NAN, 1.0),
        ];
        for (name, value, expected) in cases {
            assert!((panel_top(value) - expected).abs() < 1e-9, "{name}");
        }
    }

    #[test]
    fn latency_axis_starts_below_the_fastest_p95() {
        let cases = [
            ("a fast service", 0.05, 1.0, 0.05 / 1.5),
            (
                "slow everywhere: still below half the threshold",
                3.0,
                1.0,
                0.5,
            ),
            ("no latency logged", f64::INFINITY, 1.0, 0.1),
            ("never below a millisecond", 0.0001, 1.0, 0.001),
        ];
        for (name, fastest, threshold, expected) in cases {
            assert!(
                (latency_floor(fastest, threshold) - expected).abs() < 1e-12,
                "{name}"
            );
        }
    }

    #[test]
    fn gaps_split_lines() {
        let points = [(0, Some(1.0)), (1, Some(2.0)), (2, None), (3, Some(3.0))];
        assert_eq!(
            segments(&points),
            vec![vec![(0, 1.0), (1, 2.0)], vec![(3, 3.0)]]
        );
    }
}
