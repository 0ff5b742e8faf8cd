//! The results as a plain-text table with aligned columns.

use crate::harness::workloads::Via;
use crate::results::{Cell, Results};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The table, its legend, and nothing else.
pub fn table(results: &Results) -> String {
    let setup = &results.setup;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "taskpool against its peers: pools of {} threads on {} CPUs{}, median of {} runs{}; lower is better\n",
        setup.threads,
        setup.cpus,
        setup.load.map_or(String::new(), |load| format!(
            " (load {load:.1} at the start)"
        )),
        setup.repetitions,
        if setup.quick { " (--quick sizes)" } else { "" },
    );

    let ours: Vec<(usize, String)> = results
        .ours()
        .map(|(index, column)| {
            let header = if results.ours().count() == 1 {
                "vs best peer".to_owned()
            } else {
                format!("{} vs best", column.name)
            };
            (index, header)
        })
        .collect();

    let mut header = vec![String::new(), "unit".to_owned()];
    header.extend(results.columns.iter().map(|column| column.name.clone()));
    header.push("serial".to_owned());
    header.extend(ours.iter().map(|(_, title)| title.clone()));

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
            lines.push(Line::Heading(row.row.group.heading().to_owned()));
        }
        let indent = if row.row.indented { "    " } else { "  " };
        let mut cells = vec![format!("{indent}{}", row.row.title), row.row.unit.clone()];
        cells.extend(
            row.cells
                .iter()
                .zip(&marked)
                .map(|(cell, &marked)| cell_text(cell, marked)),
        );
        cells.push(row.serial.map_or_else(|| "-".to_owned(), number));
        for (column, _) in &ours {
            cells.push(
                match (row.cells[*column].value(), results.ratio(row, *column)) {
                    (None, _) => "n/a".to_owned(),
                    (Some(_), None) => "-".to_owned(),
                    (Some(_), Some(ratio)) => {
                        format!("{:>5.2}x {}", ratio.ratio, ratio.best_peer_name)
                    }
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
    let ratio_columns = ours.len();
    let write_cells = |out: &mut String, cells: &[String]| {
        let last_numeric = cells.len() - ratio_columns;
        for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            let gap = if index == 0 { "" } else { "  " };
            if index == 0 || index == 1 || index >= last_numeric {
                let _ = write!(out, "{gap}{cell:<width$}");
            } else {
                let _ = write!(out, "{gap}{cell:>width$}");
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    };
    write_cells(&mut out, &header);
    for line in &lines {
        match line {
            Line::Heading(heading) => {
                let _ = writeln!(out, "{heading}");
            }
            Line::Cells(cells) => write_cells(&mut out, cells),
        }
    }

    let used: BTreeSet<Via> = results
        .rows
        .iter()
        .flat_map(|row| row.cells.iter().map(Cell::via))
        .collect();
    let legend: Vec<String> = used
        .into_iter()
        .filter_map(Via::marker)
        .map(|(marker, meaning)| format!("[{marker}] {meaning}"))
        .collect();
    let _ = writeln!(
        out,
        "\n{}{}n/a: the pool lacks what the workload needs; starved: it never ran the outside jobs while busy; serial: the same jobs on one thread, no pool",
        legend.join("; "),
        if legend.is_empty() { "" } else { "\n" },
    );
    out
}

enum Line {
    Heading(String),
    Cells(Vec<String>),
}

fn cell_text(cell: &Cell, column_has_markers: bool) -> String {
    match cell {
        Cell::Missing { label, .. } => {
            format!("{label}{}", if column_has_markers { "    " } else { "" })
        }
        Cell::Value { value, via } => match via.marker() {
            Some((marker, _)) => format!("{} [{marker}]", number(*value)),
            None if column_has_markers => format!("{}    ", number(*value)),
            None => number(*value),
        },
    }
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
