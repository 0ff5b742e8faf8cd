//! The results as plain text that fits 100 columns: the table, what its
//! labels mean, one line per row, and the goals. The details (titles with
//! sizes, best peer names) are in the JSON and `compare/README.md`.

use crate::goals;
use crate::harness::workloads::Via;
use crate::results::{Cell, Results};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Prose is wrapped to this width; the table stays under it at the sizes
/// we print.
const WIDTH: usize = 100;

/// Everything printed after a run.
pub fn report(results: &Results) -> String {
    let setup = &results.setup;
    let mut out = String::new();
    wrap(
        &mut out,
        "",
        &format!(
            "taskpool against rayon, tokio and threadpool: pools of {} threads on {} CPUs, \
             median of {} runs{}. Lower is better.",
            setup.threads,
            setup.cpus,
            setup.repetitions,
            if setup.quick { ", --quick sizes" } else { "" },
        ),
    );
    if let Some(others) = setup.load.filter(|&others| others >= 1.0) {
        wrap(
            &mut out,
            "",
            &format!(
                "Busy machine: {others:.0} other threads kept running through the half second \
                 before the start; single numbers may move by tens of percent."
            ),
        );
    }
    wrap(
        &mut out,
        "",
        "L1 = taskpool level 1 (execute: fire-and-forget jobs); L2 = taskpool level 2 \
         (spawn: a Task with a result). Lx/best = that level's value / the best peer's on the \
         row: under 1x it wins.",
    );
    out.push('\n');
    table(&mut out, results);

    let used: BTreeSet<Via> = results
        .rows
        .iter()
        .flat_map(|row| row.cells.iter().map(Cell::via))
        .collect();
    out.push('\n');
    for (marker, meaning) in used.into_iter().filter_map(Via::marker) {
        wrap(&mut out, "", &format!("[{marker}] {meaning}"));
    }
    wrap(
        &mut out,
        "",
        "n/a: the pool lacks what the workload needs; starved: it never ran the outside jobs \
         while busy; no pool: the same jobs called on one thread.",
    );

    let _ = writeln!(out, "\nRows (compare/README.md explains each workload):");
    let label = results
        .rows
        .iter()
        .map(|row| row.row.id.len())
        .max()
        .unwrap_or(0);
    for row in &results.rows {
        let mut text = row.row.about.to_owned();
        if let Some(serial) = row.serial {
            let _ = write!(text, " (no pool: {} {})", number(serial), row.row.unit);
        }
        wrap(&mut out, &format!("{:<label$}  ", row.row.id), &text);
        if !row.row.note.is_empty() {
            wrap(&mut out, &" ".repeat(label + 2), row.row.note);
        }
    }

    let goals = goals::verdicts(results);
    if !goals.is_empty() {
        let _ = writeln!(out, "\nGoals (compare/README.md, \"Goals\", says why):");
        for (verdict, text) in goals {
            wrap(&mut out, &verdict, &text);
        }
    }
    out
}

/// The table: one row per metric, one column per contender, and a ratio to
/// the best peer for each of ours.
fn table(out: &mut String, results: &Results) {
    let short = |name: &str| name.strip_prefix("taskpool ").unwrap_or(name).to_owned();
    let ours: Vec<usize> = results.ours().map(|(index, _)| index).collect();
    let mut header = vec![String::new(), "unit".to_owned()];
    header.extend(results.columns.iter().map(|column| short(&column.name)));
    header.extend(
        ours.iter()
            .map(|&index| format!("{}/best", short(&results.columns[index].name))),
    );

    let marked: Vec<bool> = (0..results.columns.len())
        .map(|column| {
            results
                .rows
                .iter()
                .any(|row| row.cells[column].via() != Via::Native)
        })
        .collect();
    let mut lines: Vec<Line> = Vec::new();
    let mut group = None;
    for row in &results.rows {
        if group != Some(row.row.group) {
            group = Some(row.row.group);
            lines.push(Line::Heading(row.row.group.heading()));
        }
        let indent = if row.row.indented { "  " } else { "" };
        let mut cells = vec![format!("{indent}{}", row.row.id), row.row.unit.clone()];
        cells.extend(
            row.cells
                .iter()
                .zip(&marked)
                .map(|(cell, &marked)| cell_text(cell, marked)),
        );
        for &column in &ours {
            cells.push(
                match (row.cells[column].value(), results.ratio(row, column)) {
                    (None, _) => "n/a".to_owned(),
                    (Some(_), None) => "-".to_owned(),
                    (Some(_), Some(ratio)) => format!("{:.2}x", ratio.ratio),
                },
            );
        }
        lines.push(Line::Cells(cells));
    }

    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for line in &lines {
        if let Line::Cells(cells) = line {
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    // One space between the contenders' numbers, two around them: the table
    // has to fit 100 columns.
    let first_ratio = header.len() - ours.len();
    let write_cells = |out: &mut String, cells: &[String]| {
        for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            let gap = match index {
                0 => "",
                3.. if index < first_ratio => " ",
                _ => "  ",
            };
            if index < 2 {
                let _ = write!(out, "{gap}{cell:<width$}");
            } else {
                let _ = write!(out, "{gap}{cell:>width$}");
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    };
    write_cells(out, &header);
    for line in &lines {
        match line {
            Line::Heading(heading) => {
                let _ = writeln!(out, "{heading}:");
            }
            Line::Cells(cells) => write_cells(out, cells),
        }
    }
}

enum Line {
    Heading(&'static str),
    Cells(Vec<String>),
}

fn cell_text(cell: &Cell, column_has_markers: bool) -> String {
    match cell {
        Cell::Missing { label, .. } => {
            format!("{label}{}", if column_has_markers { "   " } else { "" })
        }
        Cell::Value { value, via } => match via.marker() {
            Some((marker, _)) => format!("{}[{marker}]", number(*value)),
            None if column_has_markers => format!("{}   ", number(*value)),
            None => number(*value),
        },
    }
}

/// `text` after `first`, wrapped at word boundaries to [`WIDTH`] columns,
/// the following lines indented as deep as `first`.
fn wrap(out: &mut String, first: &str, text: &str) {
    let indent = first.chars().count();
    let mut line = first.to_owned();
    let mut fresh = true;
    for word in text.split_whitespace() {
        if !fresh && line.chars().count() + 1 + word.chars().count() > WIDTH {
            let _ = writeln!(out, "{line}");
            line = " ".repeat(indent);
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    let _ = writeln!(out, "{line}");
}

/// At most four significant digits, and no exponent for the sizes we see.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".to_owned()
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}
