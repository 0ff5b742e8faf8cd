//! `--scaling-report DIR`: reads the `--json` results of runs at several
//! thread counts (what `scripts/scaling.sh` leaves in DIR) and writes the
//! throughput against threads as a markdown table (`scaling.md`) and a
//! chart (`scaling.svg`) beside them.

use crate::json;
use crate::plan::Group;
use crate::render::number;
use crate::results::Results;
use plotters::prelude::*;
use std::fmt::Write;
use std::path::Path;

/// Colours of the lines, in column order.
const COLOURS: [RGBColor; 6] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(127, 127, 127),
];

/// One workload's throughput: per contender, (threads, million per second).
struct Series {
    title: String,
    unit: String,
    lines: Vec<(String, Vec<(usize, f64)>)>,
}

/// Writes `DIR/scaling.md` and `DIR/scaling.svg`, and prints the markdown.
///
/// # Errors
///
/// If DIR holds no results, or a file cannot be read or written.
pub fn report(dir: &Path) -> Result<(), String> {
    let mut runs = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|error| error.to_string())?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            runs.push(json::read(&path)?);
        }
    }
    if runs.is_empty() {
        return Err(format!(
            "no *.json results in {}; run scripts/scaling.sh, or compare --json there",
            dir.display()
        ));
    }
    runs.sort_by_key(|run| run.setup.threads);
    let series = throughput_series(&runs);
    let markdown = markdown(&runs, &series);
    print!("{markdown}");
    let table = dir.join("scaling.md");
    std::fs::write(&table, &markdown)
        .map_err(|error| format!("cannot write {}: {error}", table.display()))?;
    let chart = dir.join("scaling.svg");
    draw(&series, &chart).map_err(|error| format!("cannot draw {}: {error}", chart.display()))?;
    eprintln!("wrote {} and {}", table.display(), chart.display());
    Ok(())
}

/// The throughput rows ("ns per job" and the like), as millions per second.
fn throughput_series(runs: &[Results]) -> Vec<Series> {
    let first = &runs[0];
    first
        .rows
        .iter()
        .filter(|row| row.row.group == Group::Throughput && row.row.unit.starts_with("ns/"))
        .map(|row| {
            let lines = first
                .columns
                .iter()
                .map(|column| {
                    let points = runs
                        .iter()
                        .filter_map(|run| {
                            let nanos = run.value_of(run.row(&row.row.id)?, &column.name)?;
                            (nanos > 0.0).then(|| (run.setup.threads, 1e3 / nanos))
                        })
                        .collect();
                    (column.name.clone(), points)
                })
                .collect();
            let unit = row.row.unit.trim_start_matches("ns/");
            Series {
                title: row.row.title.clone(),
                unit: format!("million {unit}s per second"),
                lines,
            }
        })
        .collect()
}

fn markdown(runs: &[Results], series: &[Series]) -> String {
    let threads: Vec<usize> = runs.iter().map(|run| run.setup.threads).collect();
    let setup = &runs[0].setup;
    let mut out = String::new();
    let _ = writeln!(out, "# Throughput against pool size\n");
    let _ = writeln!(
        out,
        "Pools of {} threads on a machine with {} CPUs; median of {} runs each{}. Higher is better.\n",
        threads
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        setup.cpus,
        setup.repetitions,
        if setup.quick { ", --quick sizes" } else { "" },
    );
    for one in series {
        let _ = writeln!(out, "## {} ({})\n", one.title, one.unit);
        let _ = writeln!(
            out,
            "| threads | {} |\n|---|{}",
            threads
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" | "),
            "---:|".repeat(threads.len())
        );
        for (name, points) in &one.lines {
            let cells: Vec<String> = threads
                .iter()
                .map(|t| {
                    points
                        .iter()
                        .find(|(threads, _)| threads == t)
                        .map_or("n/a".to_owned(), |(_, v)| number(*v))
                })
                .collect();
            let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
        }
        out.push('\n');
    }
    out
}

fn draw(series: &[Series], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let panels_across = 2;
    let panels_down = series.len().div_ceil(panels_across).max(1);
    let root = SVGBackend::new(path, (1100, 380 * panels_down as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_threads = series
        .iter()
        .flat_map(|one| {
            one.lines
                .iter()
                .flat_map(|(_, points)| points.iter().map(|(t, _)| *t))
        })
        .max()
        .unwrap_or(1)
        .max(2) as f64;
    for (panel, one) in root
        .split_evenly((panels_down, panels_across))
        .iter()
        .zip(series)
    {
        let top = one
            .lines
            .iter()
            .flat_map(|(_, points)| points.iter().map(|(_, v)| *v))
            .fold(0.0f64, f64::max)
            * 1.15;
        let mut chart = ChartBuilder::on(panel)
            .caption(&one.title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(
                (1.0..max_threads).log_scale(),
                0.0..top.max(f64::MIN_POSITIVE),
            )?;
        chart
            .configure_mesh()
            .x_desc("threads")
            .y_desc(one.unit.as_str())
            .x_label_formatter(&|threads| format!("{threads:.0}"))
            .draw()?;
        for ((name, points), colour) in one.lines.iter().zip(COLOURS.iter().cycle()) {
            let points: Vec<(f64, f64)> = points.iter().map(|(t, v)| (*t as f64, *v)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], colour.stroke_width(2))
                });
            chart.draw_series(
                points
                    .into_iter()
                    .map(|point| Circle::new(point, 3, colour.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
