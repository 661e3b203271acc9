//! The plot of `docs/benchmarks.md`: end-to-end (and ack) latency percentiles against the
//! offered rate, from a `throughput` report, as a self-contained SVG (written by hand: no
//! plotting dependency).

use std::fmt::Write as _;

use anyhow::Context as _;
use serde::Deserialize;

use crate::hist::Summary;

/// One step: offered rate, ack and end-to-end percentiles, whether it passed.
#[derive(Debug, Clone)]
pub struct Point {
    /// Offered messages per second.
    pub offered: f64,
    /// Ack latency.
    pub ack: Summary,
    /// End-to-end latency.
    pub e2e: Summary,
    /// Whether the step met the limits.
    pub passed: bool,
}

/// The steps of a `throughput` report (the JSON file the scenario writes).
///
/// # Errors
/// Not a throughput report.
pub fn points_from_report(json: &str) -> anyhow::Result<Vec<Point>> {
    #[derive(Deserialize)]
    struct Report {
        scenario: String,
        result: Result,
    }
    #[derive(Deserialize)]
    struct Result {
        steps: Vec<Step>,
    }
    #[derive(Deserialize)]
    struct Step {
        window: Window,
        passed: bool,
    }
    #[derive(Deserialize)]
    struct Window {
        offered_rate: f64,
        ack: Summary,
        e2e: Summary,
    }
    let report: Report = serde_json::from_str(json).context("reading a throughput report")?;
    anyhow::ensure!(
        report.scenario == "throughput",
        "a {} report, not throughput",
        report.scenario
    );
    Ok(report
        .result
        .steps
        .into_iter()
        .map(|s| Point {
            offered: s.window.offered_rate,
            ack: s.window.ack,
            e2e: s.window.e2e,
            passed: s.passed,
        })
        .collect())
}

const W: f64 = 760.0;
const H: f64 = 460.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// The SVG text: percentiles (log scale, ms) against offered rate, with the `limit_ms` line.
#[must_use]
pub fn latency_svg(points: &[Point], title: &str, limit_ms: f64) -> String {
    let x_max = points
        .iter()
        .map(|p| p.offered)
        .fold(1.0_f64, f64::max)
        .max(1.0);
    let x_max = nice_ceiling(x_max);
    let y_values = points
        .iter()
        .flat_map(|p| [p.e2e.p999_ms, p.ack.p99_ms, p.e2e.p50_ms, p.ack.p50_ms])
        .filter(|v| *v > 0.0);
    let y_max = y_values.clone().fold(limit_ms, f64::max);
    let y_min = y_values.fold(1.0_f64, f64::min);
    let lo = 10f64.powf(y_min.log10().floor()).min(0.1);
    let hi = 10f64.powf(y_max.log10().ceil());
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |v: f64| LEFT + v / x_max * plot_w;
    let y = |v: f64| {
        let v = v.max(lo);
        TOP + plot_h - (v.log10() - lo.log10()) / (hi.log10() - lo.log10()) * plot_h
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        LEFT + plot_w / 2.0,
        escape(title)
    );
    // Grid and axes.
    let mut decade = lo;
    while decade <= hi * 1.0001 {
        let yy = y(decade);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            yy + 4.0,
            fmt_ms(decade)
        );
        decade *= 10.0;
    }
    for i in 0..=5 {
        let v = x_max * f64::from(i) / 5.0;
        let xx = x(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{v:.0}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 18.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">offered rate (messages/s)</text>"#,
        LEFT + plot_w / 2.0,
        H - 18.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(18,{:.1}) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>"#,
        TOP + plot_h / 2.0
    );
    // The limit.
    let ly = y(limit_ms);
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="#c00" stroke-dasharray="6,4"/><text x="{:.1}" y="{:.1}" fill="#c00">p99 limit {limit_ms} ms</text>"##,
        LEFT + plot_w,
        LEFT + 4.0,
        ly - 4.0
    );
    type Pick = fn(&Point) -> f64;
    let series: [(&str, &str, &str, Pick); 6] = [
        ("e2e p50", "#1f77b4", "", |p| p.e2e.p50_ms),
        ("e2e p90", "#2ca02c", "", |p| p.e2e.p90_ms),
        ("e2e p99", "#ff7f0e", "", |p| p.e2e.p99_ms),
        ("e2e p99.9", "#d62728", "", |p| p.e2e.p999_ms),
        ("ack p50", "#1f77b4", "3,3", |p| p.ack.p50_ms),
        ("ack p99", "#ff7f0e", "3,3", |p| p.ack.p99_ms),
    ];
    for (i, (name, color, dash, pick)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .filter(|p| pick(p) > 0.0)
            .map(|p| format!("{:.1},{:.1}", x(p.offered), y(pick(p))))
            .collect();
        if path.is_empty() {
            continue;
        }
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash_attr} points="{}"/>"#,
            path.join(" ")
        );
        for p in points.iter().filter(|p| pick(p) > 0.0) {
            let fill = if p.passed { *color } else { "white" };
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{fill}" stroke="{color}"/>"#,
                x(p.offered),
                y(pick(p))
            );
        }
        #[expect(clippy::cast_precision_loss, reason = "six series")]
        let ky = TOP + 10.0 + i as f64 * 20.0;
        let kx = LEFT + plot_w + 14.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{kx}" y1="{ky}" x2="{}" y2="{ky}" stroke="{color}" stroke-width="2"{dash_attr}/><text x="{}" y="{}">{name}</text>"#,
            kx + 26.0,
            kx + 32.0,
            ky + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" font-size="11">hollow: step failed</text>"#,
        LEFT + plot_w + 14.0,
        TOP + 140.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn nice_ceiling(v: f64) -> f64 {
    let magnitude = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * magnitude {
            return m * magnitude;
        }
    }
    10.0 * magnitude
}

fn fmt_ms(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(p50: f64, p99: f64) -> Summary {
        Summary {
            count: 10,
            p50_ms: p50,
            p90_ms: p50 * 1.5,
            p99_ms: p99,
            p999_ms: p99 * 2.0,
            ..Summary::default()
        }
    }

    #[test]
    fn the_svg_has_a_line_per_series_and_a_point_per_step() {
        let points = vec![
            Point {
                offered: 1000.0,
                ack: summary(1.0, 3.0),
                e2e: summary(1.2, 4.0),
                passed: true,
            },
            Point {
                offered: 2000.0,
                ack: summary(2.0, 60.0),
                e2e: summary(2.2, 70.0),
                passed: false,
            },
        ];
        let svg = latency_svg(&points, "a <test>", 50.0);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 6);
        assert_eq!(svg.matches("<circle").count(), 12);
        assert!(svg.contains("a &lt;test&gt;"));
    }

    #[test]
    fn nice_ceilings_round_up() {
        assert!((nice_ceiling(4200.0) - 5000.0).abs() < 1e-9);
        assert!((nice_ceiling(12000.0) - 20000.0).abs() < 1e-9);
    }
}
