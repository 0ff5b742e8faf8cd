//! The measured table: one row per metric, one cell per contender, and the
//! ratios read from it.

use crate::harness::contender::Role;
use crate::harness::workloads::Via;
use crate::plan::Row;

/// How the numbers were taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub threads: usize,
    pub cpus: usize,
    pub quick: bool,
    pub repetitions: usize,
    /// Wall-clock seconds the whole run took.
    pub seconds: f64,
    /// Threads of other programs that kept running through the half second
    /// before the start, where the system tells it (JSON key "load").
    pub load: Option<f64>,
}

/// A contender's column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub role: Role,
}

/// One contender's result on one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The median over the repetitions.
    Value { value: f64, via: Via },
    /// No number: "n/a" (the contender lacks what the workload needs) or
    /// "starved", and why.
    Missing { label: String, reason: String },
}

impl Cell {
    pub fn value(&self) -> Option<f64> {
        match self {
            Cell::Value { value, .. } => Some(*value),
            Cell::Missing { .. } => None,
        }
    }

    pub fn via(&self) -> Via {
        match self {
            Cell::Value { via, .. } => *via,
            Cell::Missing { .. } => Via::Native,
        }
    }
}

/// One row of results.
#[derive(Debug, Clone)]
pub struct RowResult {
    pub row: Row,
    /// One per column, in column order.
    pub cells: Vec<Cell>,
    /// The same work without a pool, where that means something.
    pub serial: Option<f64>,
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Results {
    pub setup: Setup,
    pub columns: Vec<Column>,
    pub rows: Vec<RowResult>,
}

/// An "ours" value against the best peer on its row.
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    pub ours: f64,
    pub best_peer: f64,
    pub best_peer_name: String,
    /// `ours / best_peer`: below 1, ours wins.
    pub ratio: f64,
}

impl Results {
    /// The columns that get a "vs best peer" ratio.
    pub fn ours(&self) -> impl Iterator<Item = (usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, column)| column.role == Role::Ours)
    }

    /// The lowest peer value on `row`, and whose it is.
    pub fn best_peer(&self, row: &RowResult) -> Option<(usize, f64)> {
        self.columns
            .iter()
            .zip(&row.cells)
            .enumerate()
            .filter(|(_, (column, _))| column.role == Role::Peer)
            .filter_map(|(index, (_, cell))| cell.value().map(|value| (index, value)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Column `ours` against the best peer on `row`; `None` when either is
    /// missing or the best peer is zero (a ratio would mean nothing).
    pub fn ratio(&self, row: &RowResult, ours: usize) -> Option<Ratio> {
        let value = row.cells[ours].value()?;
        let (peer, best) = self.best_peer(row)?;
        Some(Ratio {
            ours: value,
            best_peer: best,
            best_peer_name: self.columns[peer].name.clone(),
            ratio: row.row.relative(value, best)?,
        })
    }

    /// The row with this id.
    pub fn row(&self, id: &str) -> Option<&RowResult> {
        self.rows.iter().find(|row| row.row.id == id)
    }

    /// The value of the named column on `row`.
    pub fn value_of(&self, row: &RowResult, column: &str) -> Option<f64> {
        let index = self.columns.iter().position(|c| c.name == column)?;
        row.cells[index].value()
    }
}

/// The median of `values` (the mean of the middle two for an even count).
///
/// # Panics
///
/// If `values` is empty.
pub fn median(values: &mut [f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}
