//! The table as an SVG chart: for every row, each contender's value
//! relative to the best peer's, as grouped horizontal bars on a log scale,
//! so rows in nanoseconds, milliseconds and bytes share one axis.

use crate::harness::contender::Role;
use crate::results::{Cell, Results};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

const WIDTH: u32 = 1200;
const LABEL_WIDTH: u32 = 360;
const BAR_HEIGHT: u32 = 9;
const ROW_GAP: u32 = 10;

/// Ours in warm colours, peers in cool ones.
const OURS: [RGBColor; 2] = [RGBColor(214, 39, 40), RGBColor(255, 127, 14)];
const PEERS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

/// One row of the chart.
struct ChartRow {
    title: String,
    /// Per column: the value relative to the best peer, or what the table
    /// shows instead ("n/a", "starved").
    bars: Vec<Result<f64, String>>,
}

/// Writes the chart of `results` to `path`.
///
/// # Errors
///
/// If the file cannot be written, with plotters' message.
pub fn write(results: &Results, path: &Path) -> Result<(), String> {
    draw(results, path).map_err(|error| format!("cannot draw {}: {error}", path.display()))
}

/// Every row that has a best peer to be relative to.
fn chart_rows(results: &Results) -> Vec<ChartRow> {
    results
        .rows
        .iter()
        .filter_map(|row| {
            let (_, best) = results.best_peer(row)?;
            row.row.relative(best, best)?;
            let bars = row
                .cells
                .iter()
                .map(|cell| match cell {
                    Cell::Value { value, .. } => Ok(row.row.relative(*value, best).unwrap_or(0.0)),
                    Cell::Missing { label, .. } => Err(label.clone()),
                })
                .collect();
            let title = format!("{} ({})", row.row.title, row.row.unit);
            Some(ChartRow { title, bars })
        })
        .collect()
}

fn colours(results: &Results) -> Vec<RGBColor> {
    let (mut ours, mut peers) = (OURS.iter().cycle(), PEERS.iter().cycle());
    let mut next = |role| match role {
        Role::Ours => ours.next(),
        Role::Peer => peers.next(),
    };
    results
        .columns
        .iter()
        .map(|column| *next(column.role).unwrap_or(&BLACK))
        .collect()
}

fn draw(results: &Results, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let rows = chart_rows(results);
    let columns = results.columns.len();
    let height = 120 + (BAR_HEIGHT * columns as u32 + ROW_GAP) * rows.len() as u32;
    let ratios = rows.iter().flat_map(|row| row.bars.iter().flatten());
    let (low, high) = ratios
        .filter(|ratio| **ratio > 0.0)
        .fold((1.0f64, 1.0f64), |(low, high), &r| {
            (low.min(r), high.max(r))
        });
    let (low, high) = (low / 1.5, high * 1.5);

    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let caption = format!(
        "Time (or bytes) relative to the best peer, log scale: left of 1x beats it ({} threads, {} CPUs)",
        results.setup.threads, results.setup.cpus
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .margin_left(LABEL_WIDTH)
        .x_label_area_size(30)
        .build_cartesian_2d((low..high).log_scale(), 0.0..rows.len() as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_label_formatter(&|ratio| format!("{}x", short(*ratio)))
        .draw()?;

    // Row `index` is the band [n - index - 1, n - index], top to bottom;
    // its bars sit below half a gap, one slot each.
    let slot = 1.0 / (columns as f64 + f64::from(ROW_GAP) / f64::from(BAR_HEIGHT));
    let band_top = |index: usize| {
        rows.len() as f64 - index as f64 - slot * 0.5 * f64::from(ROW_GAP) / f64::from(BAR_HEIGHT)
    };
    let missing_style = ("sans-serif", 10)
        .into_font()
        .color(&RGBColor(110, 110, 110));
    for ((column, info), colour) in results.columns.iter().enumerate().zip(colours(results)) {
        let bar = |index: usize, ratio: f64| {
            let top = band_top(index) - slot * column as f64;
            Rectangle::new([(low, top - slot), (ratio.max(low), top)], colour.filled())
        };
        let bars = rows.iter().enumerate().filter_map(|(index, row)| {
            row.bars[column]
                .as_ref()
                .ok()
                .map(|ratio| bar(index, *ratio))
        });
        chart
            .draw_series(bars)?
            .label(info.name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
        let missing = rows.iter().enumerate().filter_map(|(index, row)| {
            let label = row.bars[column].as_ref().err()?;
            let middle = band_top(index) - slot * (column as f64 + 0.5);
            let text = format!("{}: {label}", info.name);
            Some(Text::new(
                text,
                (low, middle),
                missing_style
                    .clone()
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
        });
        chart.draw_series(missing)?;
    }
    let one = LineSeries::new(
        [(1.0, 0.0), (1.0, rows.len() as f64)],
        BLACK.stroke_width(1),
    );
    chart.draw_series(one)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;

    let label_style = ("sans-serif", 13)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (index, row) in rows.iter().enumerate() {
        let middle = rows.len() as f64 - index as f64 - 0.5;
        let (_, y) = chart.backend_coord(&(low, middle));
        root.draw(&Text::new(
            row.title.clone(),
            (LABEL_WIDTH as i32, y),
            label_style.clone(),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// A ratio for an axis label: "0.5", "1", "20".
fn short(ratio: f64) -> String {
    let text = crate::render::number(ratio);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}
