//! How several tasks share an MTTKRP: private outputs added at the end, or a row
//! partition over a counting sort by output row.

use super::input::Input;
use crate::pool;
use crate::sparse::factors::{try_zeros, FactorsError, SubsRead};
use crate::sparse::in_range;

impl<S: SubsRead> Input<'_, S> {
    /// Each task a run of nonzeros into its own output; the outputs added in task order.
    pub(super) fn by_private_outputs(
        &self,
        out: &mut [f64],
        tasks: usize,
        threads: usize,
    ) -> Result<(), FactorsError> {
        let nnz = self.vals.len();
        let mut private = Vec::with_capacity(tasks - 1);
        for _ in 1..tasks {
            private.push(try_zeros::<f64>(out.len())?);
        }
        let mut work: Vec<(usize, &mut [f64])> = vec![(0, &mut *out)];
        work.extend(
            private
                .iter_mut()
                .enumerate()
                .map(|(t, p)| (t + 1, p.as_mut_slice())),
        );
        let results = pool::run_tasks(threads, work, |(t, buffer)| {
            self.in_input_order(t * nnz / tasks..(t + 1) * nnz / tasks, buffer)
        })?;
        results.into_iter().collect::<Result<(), _>>()?;
        // The reduction, split by cells; each cell adds the copies in task order.
        let chunk = out.len().div_ceil(tasks).max(1);
        let pieces: Vec<(usize, &mut [f64])> = out
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, piece)| (c * chunk, piece))
            .collect();
        pool::run_tasks(threads, pieces, |(start, piece)| {
            for copy in &private {
                for (o, &p) in piece.iter_mut().zip(&copy[start..]) {
                    *o += p;
                }
            }
        })?;
        Ok(())
    }

    /// Sort the nonzeros by output row, give each task a range of rows.
    pub(super) fn by_row_partition(
        &self,
        out: &mut [f64],
        tasks: usize,
        threads: usize,
    ) -> Result<(), FactorsError> {
        let rank = self.factors.rank;
        let rows = self.shape[self.mode];
        let (row_start, order) = self.sort_by_row(rows)?;
        let nnz = self.vals.len();
        // Task t starts at the first row whose nonzeros begin at or after t * nnz / tasks.
        let mut bounds: Vec<usize> = (0..tasks)
            .map(|t| {
                row_start
                    .partition_point(|&s| s < t * nnz / tasks)
                    .min(rows)
            })
            .collect();
        bounds[0] = 0;
        bounds.push(rows);
        let mut work = Vec::with_capacity(tasks);
        let mut rest = out;
        for pair in bounds.windows(2) {
            let (chunk, tail) = rest.split_at_mut((pair[1] - pair[0]) * rank);
            work.push((pair[0]..pair[1], chunk));
            rest = tail;
        }
        let results = pool::run_tasks(threads, work, |(range, chunk)| {
            self.rows_simd(range, chunk, &row_start, &order)
        })?;
        if results.iter().all(|&ok| ok) {
            Ok(())
        } else {
            Err(self.bad_subscript())
        }
    }

    /// A stable counting sort of the nonzeros by their subscript along `mode`:
    /// `(row_start, order)` where row `i`'s nonzeros are
    /// `order[row_start[i]..row_start[i + 1]]`, in input order.
    fn sort_by_row(&self, rows: usize) -> Result<(Vec<usize>, Vec<usize>), FactorsError> {
        let nnz = self.vals.len();
        let mut row_start = try_zeros::<usize>(rows + 1)?;
        for k in 0..nnz {
            let i = self.subs.get(k, self.mode);
            if !in_range(i, rows) {
                return Err(self.bad_subscript());
            }
            row_start[i as usize + 1] += 1;
        }
        for i in 0..rows {
            row_start[i + 1] += row_start[i];
        }
        let mut next = try_zeros::<usize>(rows)?;
        next.copy_from_slice(&row_start[..rows]);
        let mut order = try_zeros::<usize>(nnz)?;
        for k in 0..nnz {
            let i = self.subs.get(k, self.mode) as usize;
            order[next[i]] = k;
            next[i] += 1;
        }
        Ok((row_start, order))
    }
}
