//! One nonzero's term in register blocks of 16, 8, 4 and 1 columns, with the order and
//! mode known at compile time (rank blocking inside the nonzero).

/// `$self.$method::<D, M>(args)` for the order D and mode M of `$self` when D is 2 to 5
/// (one loop compiled per order and mode, as the TTV kernel has), else `$fallback`.
macro_rules! fixed_order {
    ($self:ident, $method:ident $args:tt, $fallback:expr) => {
        fixed_order!(@pairs $self, $method $args, $fallback;
            (2, 0) (2, 1) (3, 0) (3, 1) (3, 2) (4, 0) (4, 1) (4, 2) (4, 3)
            (5, 0) (5, 1) (5, 2) (5, 3) (5, 4))
    };
    (@pairs $self:ident, $method:ident $args:tt, $fallback:expr;
        $(($d:literal, $m:literal))*) => {
        match ($self.shape.len(), $self.mode) {
            $(($d, $m) => $self.$method::<$d, $m> $args,)*
            _ => $fallback,
        }
    };
}

/// Add the term of a nonzero with value `value` and subscripts `idx` into `out_row`, in
/// register blocks of 16, 8, 4 and 1 columns (order D and mode M known at compile time).
#[inline(always)]
pub(super) fn add_fixed<const D: usize, const M: usize>(
    rows: &[&[f64]; D],
    idx: &[usize; D],
    value: f64,
    rank: usize,
    out_row: &mut [f64],
) {
    let mut col = 0;
    while col + 16 <= rank {
        block_fixed::<D, M, 16>(rows, idx, value, rank, col, out_row);
        col += 16;
    }
    if col + 8 <= rank {
        block_fixed::<D, M, 8>(rows, idx, value, rank, col, out_row);
        col += 8;
    }
    if col + 4 <= rank {
        block_fixed::<D, M, 4>(rows, idx, value, rank, col, out_row);
        col += 4;
    }
    while col < rank {
        block_fixed::<D, M, 1>(rows, idx, value, rank, col, out_row);
        col += 1;
    }
}

/// Columns `col..col + B` of one term: the value times the factor entries in ascending
/// mode order, added into `out_row`.
#[inline(always)]
fn block_fixed<const D: usize, const M: usize, const B: usize>(
    rows: &[&[f64]; D],
    idx: &[usize; D],
    value: f64,
    rank: usize,
    col: usize,
    out_row: &mut [f64],
) {
    let mut term = [value; B];
    for m in 0..D {
        if m != M {
            let start = idx[m] * rank + col;
            let u: &[f64; B] = rows[m][start..start + B].try_into().expect("B values");
            for (t, &x) in term.iter_mut().zip(u) {
                *t *= x;
            }
        }
    }
    let o: &mut [f64; B] = (&mut out_row[col..col + B]).try_into().expect("B values");
    for (o, &t) in o.iter_mut().zip(&term) {
        *o += t;
    }
}
pub(super) use fixed_order;
