//! Small-cell suppression for the analysts' dashboard.
//!
//! A count from 1 to 4 could single out a person, so it is hidden (primary suppression). Hiding
//! one cell is not enough when the others and their total are shown: the hidden one is the
//! difference. So for every group of cells that adds up to a shown total, when exactly one cell
//! is hidden, the smallest other non-zero cell is hidden too (secondary suppression), repeated
//! until no group gives a hidden cell away.

/// One count, and whether it is withheld.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub count: i64,
    pub suppressed: bool,
}

impl Cell {
    pub fn new(count: i64) -> Self {
        Cell { count, suppressed: false }
    }

    /// The count as shown: `None` when withheld.
    pub fn shown(self) -> Option<i64> {
        (!self.suppressed).then_some(self.count)
    }
}

/// Where a cell lives in the figures being suppressed.
pub type CellRef = usize;

/// Figures as a flat list of cells, and the additive groups among them: `(total, parts)` where
/// the parts add up to the total.
#[derive(Default)]
pub struct Table {
    pub cells: Vec<Cell>,
    pub groups: Vec<(Vec<CellRef>, Vec<CellRef>)>,
}

impl Table {
    pub fn add(&mut self, count: i64) -> CellRef {
        self.cells.push(Cell::new(count));
        self.cells.len() - 1
    }

    /// Declares that the cells `parts` add up to the sum of the cells `total`.
    pub fn group(&mut self, total: Vec<CellRef>, parts: Vec<CellRef>) {
        self.groups.push((total, parts));
    }

    /// Applies primary and secondary suppression.
    pub fn suppress(&mut self) {
        for cell in &mut self.cells {
            cell.suppressed = (1..=4).contains(&cell.count);
        }
        loop {
            let mut changed = false;
            for (total, parts) in &self.groups {
                if total.iter().any(|&t| self.cells[t].suppressed) {
                    continue; // an unknown total gives nothing away
                }
                let hidden = parts.iter().filter(|&&p| self.cells[p].suppressed).count();
                if hidden == 1 {
                    let next = parts
                        .iter()
                        .copied()
                        .filter(|&p| !self.cells[p].suppressed)
                        .min_by_key(|&p| (self.cells[p].count == 0, self.cells[p].count));
                    if let Some(next) = next {
                        self.cells[next].suppressed = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                return;
            }
        }
    }
}
