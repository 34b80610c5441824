//! Small-cell suppression for the analysts' dashboard.
//!
//! A count from 1 to 4 could single out a person, so it is withheld (primary suppression).
//! Withholding it is not enough when the figures around it are shown: a withheld cell may be a
//! total minus the other parts, or follow from two groupings of the same referrals, or be pinned
//! between what the other figures allow. So the figures are then attacked the way an analyst
//! would attack them, and while any withheld count can still be worked back, one more cell next
//! to it is withheld (secondary suppression).
//!
//! What the analyst is assumed to know: every figure shown, every relation declared on the table
//! (parts that add up to a total, parts that cannot exceed a whole), every cell declared known,
//! and that a withheld count is a whole number of at least 1 (zeros are never withheld). The
//! audit then finds a withheld count an analyst could work back in two ways:
//! - the equalities fix it exactly (linear algebra: its unit vector lies in their row space);
//! - its bounds meet: lower and upper bounds, propagated through equalities and inequalities
//!   until nothing tightens, leave one value (two withheld cells that add up to 2 are both 1).
//!
//! This protects one answer. Answers for different windows are kept apart by the windows
//! themselves: an analyst's window is one calendar quarter, and quarters share no referral, so
//! no relation joins a cell of one answer to a cell of another (`docs/dashboards.md`).

use std::collections::{BTreeSet, HashSet};

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

/// Figures as a flat list of cells, and the relations among them.
#[derive(Default)]
pub struct Table {
    pub cells: Vec<Cell>,
    /// `(total, parts)`: the parts add up to the sum of the totals.
    pub groups: Vec<(Vec<CellRef>, Vec<CellRef>)>,
    /// `(whole, parts)`: the parts add up to at most the sum of the whole.
    pub bounds: Vec<(Vec<CellRef>, Vec<CellRef>)>,
    /// Cells that are never withheld: counts not published, but not relied on to be secret.
    known: HashSet<CellRef>,
}

/// How often bounds are propagated through the relations before the audit stops tightening.
const PROPAGATION_ROUNDS: usize = 64;

impl Table {
    pub fn add(&mut self, count: i64) -> CellRef {
        self.cells.push(Cell::new(count));
        self.cells.len() - 1
    }

    /// A count that takes part in relations but is not published; the audit assumes the analyst
    /// knows it (e.g. the referrals to organisations outside the network partners' figures).
    pub fn add_known(&mut self, count: i64) -> CellRef {
        let cell = self.add(count);
        self.known.insert(cell);
        cell
    }

    /// Declares that the cells `parts` add up to the sum of the cells `total`.
    pub fn group(&mut self, total: Vec<CellRef>, parts: Vec<CellRef>) {
        self.groups.push((total, parts));
    }

    /// Declares that the cells `parts` add up to at most the sum of the cells `whole`.
    pub fn within(&mut self, whole: Vec<CellRef>, parts: Vec<CellRef>) {
        self.bounds.push((whole, parts));
    }

    /// Withholds every count from 1 to 4, then one more cell at a time while the audit can work
    /// a withheld count back.
    pub fn suppress(&mut self) {
        for (i, cell) in self.cells.iter_mut().enumerate() {
            cell.suppressed = !self.known.contains(&i) && (1..=4).contains(&cell.count);
        }
        loop {
            let exposed = self.worked_back();
            let Some(next) = exposed.iter().find_map(|&cell| self.next_to_withhold(cell)) else {
                // Nothing exposed; or nothing left to withhold, which the relations declared on
                // the dashboard cannot produce (a lone withheld part has a non-zero sibling or
                // total, or the total is itself 1 to 4).
                return;
            };
            self.cells[next].suppressed = true;
        }
    }

    /// The withheld cells whose count an analyst could work back from what is shown.
    pub fn worked_back(&self) -> Vec<CellRef> {
        let hidden: Vec<CellRef> = (0..self.cells.len()).filter(|&c| self.cells[c].suppressed).collect();
        if hidden.is_empty() {
            return Vec::new();
        }
        let mut exposed: BTreeSet<CellRef> = self.fixed_by_equalities(&hidden).into_iter().collect();
        exposed.extend(self.pinned_by_bounds(&hidden));
        exposed.into_iter().collect()
    }

    /// The cell to withhold so that `exposed` is no longer given away: among the non-zero shown
    /// cells sharing a relation with it (then one relation further out, and so on), parts before
    /// totals (a total hides more), smallest first, the first that frees `exposed` on its own;
    /// when none does, the first of them, and the audit goes round again.
    fn next_to_withhold(&mut self, exposed: CellRef) -> Option<CellRef> {
        let totals: HashSet<CellRef> = self.groups.iter().flat_map(|(t, _)| t.iter().copied()).collect();
        let relations: Vec<Vec<CellRef>> = self
            .groups
            .iter()
            .chain(&self.bounds)
            .map(|(a, b)| a.iter().chain(b).copied().collect())
            .collect();
        let mut candidates = Vec::new();
        let mut reached: HashSet<CellRef> = HashSet::from([exposed]);
        let mut frontier = vec![exposed];
        while !frontier.is_empty() {
            let mut next_frontier = Vec::new();
            for relation in relations.iter().filter(|r| r.iter().any(|c| frontier.contains(c))) {
                for &cell in relation {
                    if reached.insert(cell) {
                        next_frontier.push(cell);
                    }
                }
            }
            let mut level: Vec<CellRef> = next_frontier
                .iter()
                .copied()
                .filter(|&c| !self.cells[c].suppressed && !self.known.contains(&c) && self.cells[c].count > 0)
                .collect();
            level.sort_by_key(|&c| (totals.contains(&c), self.cells[c].count, c));
            candidates.extend(level);
            frontier = next_frontier;
        }
        let frees = |table: &mut Table, candidate: CellRef| {
            table.cells[candidate].suppressed = true;
            let freed = !table.worked_back().contains(&exposed);
            table.cells[candidate].suppressed = false;
            freed
        };
        candidates.iter().copied().find(|&c| frees(self, c)).or(candidates.first().copied())
    }

    /// The withheld cells the equalities alone determine: reduced to row echelon form over the
    /// withheld cells, a pivot whose row holds no other unknown is fixed.
    fn fixed_by_equalities(&self, hidden: &[CellRef]) -> Vec<CellRef> {
        const EPSILON: f64 = 1e-9;
        let column = |cell: CellRef| hidden.iter().position(|&h| h == cell);
        let mut rows: Vec<Vec<f64>> = self
            .groups
            .iter()
            .map(|(total, parts)| {
                let mut row = vec![0.0_f64; hidden.len()];
                for (&cell, sign) in total.iter().map(|c| (c, 1.0)).chain(parts.iter().map(|c| (c, -1.0))) {
                    if let Some(j) = column(cell) {
                        row[j] += sign;
                    }
                }
                row
            })
            .filter(|row| row.iter().any(|v| v.abs() > EPSILON))
            .collect();
        let mut pivots = Vec::new();
        for j in 0..hidden.len() {
            let r = pivots.len();
            let Some(best) = (r..rows.len())
                .filter(|&i| rows[i][j].abs() > EPSILON)
                .max_by(|&a, &b| rows[a][j].abs().total_cmp(&rows[b][j].abs()))
            else {
                continue;
            };
            rows.swap(r, best);
            let pivot = rows[r][j];
            rows[r].iter_mut().for_each(|v| *v /= pivot);
            let pivot_row = rows[r].clone();
            for (i, row) in rows.iter_mut().enumerate() {
                if i != r && row[j].abs() > EPSILON {
                    let factor = row[j];
                    row.iter_mut().zip(&pivot_row).for_each(|(v, p)| *v -= factor * p);
                }
            }
            pivots.push(j);
        }
        pivots
            .iter()
            .enumerate()
            .filter(|&(r, &j)| rows[r].iter().enumerate().all(|(k, v)| k == j || v.abs() < EPSILON))
            .map(|(_, &j)| hidden[j])
            .collect()
    }

    /// The withheld cells whose bounds meet once bounds are propagated through the relations: a
    /// shown cell is its count, a withheld one at least 1 and at first unbounded above.
    fn pinned_by_bounds(&self, hidden: &[CellRef]) -> Vec<CellRef> {
        let mut bounds: Vec<Bounds> = self
            .cells
            .iter()
            .map(|c| if c.suppressed { Bounds { lo: 1, hi: None } } else { Bounds::exactly(c.count) })
            .collect();
        // Every relation as signed terms: equalities sum to 0, inequalities to at most 0.
        let signed = |plus: &[CellRef], minus: &[CellRef]| -> Vec<(CellRef, i64)> {
            plus.iter().map(|&c| (c, 1)).chain(minus.iter().map(|&c| (c, -1))).collect()
        };
        let equalities: Vec<_> = self.groups.iter().map(|(t, p)| signed(t, p)).collect();
        let at_most_zero: Vec<_> = self.bounds.iter().map(|(whole, parts)| signed(parts, whole)).collect();
        for _ in 0..PROPAGATION_ROUNDS {
            let mut changed = false;
            for (terms, equality) in
                equalities.iter().map(|t| (t, true)).chain(at_most_zero.iter().map(|t| (t, false)))
            {
                let ranges: Vec<Range> = terms.iter().map(|&(c, s)| bounds[c].times(s)).collect();
                let sum = Sum::of(&ranges);
                for (&(cell, sign), range) in terms.iter().zip(&ranges) {
                    if !self.cells[cell].suppressed {
                        continue;
                    }
                    // sign·x = −(the other terms), and for an inequality at most that.
                    let rest = sum.without(*range).negated();
                    let rest = if equality { rest } else { Range { lo: None, hi: rest.hi } };
                    let derived = if sign > 0 { rest } else { rest.negated() };
                    changed |= bounds[cell].tighten(derived);
                }
            }
            if !changed {
                break;
            }
        }
        hidden.iter().copied().filter(|&c| bounds[c].hi == Some(bounds[c].lo)).collect()
    }
}

/// What the audit knows of a cell: at least `lo`, at most `hi` when bounded.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    lo: i64,
    hi: Option<i64>,
}

impl Bounds {
    fn exactly(n: i64) -> Self {
        Bounds { lo: n, hi: Some(n) }
    }

    /// The range of `sign · x`.
    fn times(self, sign: i64) -> Range {
        if sign > 0 {
            Range { lo: Some(self.lo), hi: self.hi }
        } else {
            Range { lo: self.hi.map(|h| -h), hi: Some(-self.lo) }
        }
    }

    /// Narrows to `range`; whether anything changed.
    fn tighten(&mut self, range: Range) -> bool {
        let mut changed = false;
        if let Some(lo) = range.lo.filter(|&lo| lo > self.lo) {
            self.lo = lo;
            changed = true;
        }
        if let Some(hi) = range.hi.filter(|&hi| self.hi.is_none_or(|h| hi < h)) {
            self.hi = Some(hi);
            changed = true;
        }
        changed
    }
}

/// A range of whole numbers, open on a side that is `None`.
#[derive(Clone, Copy, Debug)]
struct Range {
    lo: Option<i64>,
    hi: Option<i64>,
}

impl Range {
    fn negated(self) -> Range {
        Range { lo: self.hi.map(|h| -h), hi: self.lo.map(|l| -l) }
    }
}

/// The sum of some ranges, kept so that the sum of all but one is quick to get: the finite
/// ends added up, and how many ends are open.
struct Sum {
    lo: (i64, usize),
    hi: (i64, usize),
}

impl Sum {
    fn of(ranges: &[Range]) -> Sum {
        let add = |(sum, open): (i64, usize), end: Option<i64>| match end {
            Some(n) => (sum.saturating_add(n), open),
            None => (sum, open + 1),
        };
        Sum {
            lo: ranges.iter().map(|r| r.lo).fold((0, 0), add),
            hi: ranges.iter().map(|r| r.hi).fold((0, 0), add),
        }
    }

    /// The sum of all the ranges but `range` (one of them).
    fn without(&self, range: Range) -> Range {
        let end = |(sum, open): (i64, usize), own: Option<i64>| match own {
            Some(n) => (open == 0).then(|| sum.saturating_sub(n)),
            None => (open == 1).then_some(sum),
        };
        Range { lo: end(self.lo, range.lo), hi: end(self.hi, range.hi) }
    }
}
