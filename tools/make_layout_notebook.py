"""Generate notebooks/layout.ipynb.

Run: ``python tools/make_layout_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

write(
    "notebooks/layout.ipynb",
    [
        md("""
# Memory layout and the paper's open question (Section 4.2)

At the largest matrix-vector sizes the paper measured Rust timed inside Rust, and Numba, slower
than Rust called from Python, and could not say why. This notebook first measures the square
matrix-vector product (Figure 3c's sizes) with the matrix in C order and in Fortran order for
every implementation, then tests each candidate cause on its own: the paper's Rust loop
(`kernels_rs.matvec_loop`, called from Python) under conditions that differ in that cause only,
in interleaved rounds in one process, with the minor page faults of every timed call.

Candidate causes and the conditions that separate them:

- **first touch** (`first_touch`): the page faults inside the timed calls of Rust's own timer
  against those of Rust from Python (the decisive count: a cost the slower path does not pay
  cannot explain it); and the matrix's pages first touched inside the timed call (`np.zeros`,
  mapped on first access) or before it (the same zeros written once first). A read of a page
  never written maps the kernel's shared zero page, so `untouched` shows the cost of the faults
  without the memory traffic, and may well be faster;
- **generation layout** (`generation_layout`): a C-order matrix written column by column
  (strided) or row by row, then read by rows;
- **loop order** (`loop_order`): the row-by-row loop over a matrix stored by columns or by rows;
- **cache and frequency state** (`cache_state`): the call right after the data were drawn (as
  the paper timed) against after one untimed call on the same data, and after reading a buffer
  larger than the caches.

A `supported` cause changes the time of the paper's loop, alone, by more than the tolerance; it
explains the puzzle only where the paths differ in it and the gap is present (both shown
below). Each verdict comes from the data by the rule in `tensorbench.experiments.layout_report`: the
ratio of the two conditions (geometric mean of per-round ratios, first round dropped) with a
95% CI is `supported` when the CI lies beyond the profile's tolerance, `not supported` when it
lies within it, `inconclusive` otherwise; first touch also needs Rust's own timer to take more
page faults than Rust from Python.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code("""
from IPython.display import Markdown, display

from tensorbench import plotting, provenance, tables
from tensorbench.experiments import layout, layout_report
from tensorbench.findings import as_markdown

orders, causes = layout.run(profile, results_root or None)
p = layout.params(profile)
tolerance = float(p["causes"].get("tolerance", layout_report.DEFAULT_TOLERANCE))
print(f"{len(orders.summary)} order cells, {len(causes)} cause records")
"""),
        md("## Matrix-vector product in C and Fortran order"),
        code("""
fig = layout_report.figure(orders)
saved = plotting.save(fig, orders.figures_dir, "fig_layout_orders")
plotting.show(fig, layout_report.figure_alt(orders))
print("saved:", *saved, sep="\\n  ")
"""),
        md("""
Median seconds per call in each order (medians: on a busy machine one disturbed call moves a
mean of few trials), and Fortran time over C time (above 1: slower in Fortran
order). The paper's loops (Python, Numba, Rust, Rust from Python) run over rows, so they read a
Fortran matrix with a stride; NumPy and the tuned `kernels_rs.matvec` follow the layout.
"""),
        code("""
order_table = layout_report.order_table(orders)
tables.write(order_table, orders.figures_dir, "table_layout_orders",
             title=f"Matvec in C and F order (mean s)\\n\\n{orders.caption()}")
tables.show(order_table)
"""),
        md("""
## The puzzle here

Rust timed in Rust and Numba over Rust from Python at the largest size, in each order (mean time
ratio; above 1 means slower than Rust from Python, as the paper saw), with a conservative
interval from both means' 95% CIs: the gap is `present` when the interval lies above 1 plus the
tolerance, `absent` when it lies below, `unclear` otherwise.
"""),
        code("""
tables.show(layout_report.gap_table(orders, tolerance))
"""),
        md("## Each candidate cause on its own"),
        code("""
cause_table = layout_report.cause_table(causes, tolerance)
tables.write(cause_table, orders.figures_dir, "table_layout_causes",
             title="Candidate causes of the Section 4.2 puzzle: ratio, 95% CI, verdict")
tables.show(cause_table)
"""),
        code("""
verdicts = layout_report.cause_verdicts(cause_table)
display(Markdown("\\n".join(f"- **{cause}**: {v}" for cause, v in verdicts.items())))
"""),
        md("""
## The tuned kernel against BLAS, side by side

Issue 11's target: the tuned `kernels_rs.matvec` at least 0.95x the speed of NumPy/OpenBLAS
`a @ x` (one thread) at every shape of Figure 3 (the matvec profile's three regimes, and 6000 x
6000 in the paper profile), in C and Fortran order, and within 1.25x of the memory bound. Both
are timed on the same matrix and vector in one process, in rounds that alternate which goes
first (each sample a batch of calls lasting at least the profile's `min_sample_seconds`, net of
the empty loop), so the ratio does not carry the run-to-run noise of separate cells. The ratio
is BLAS time over tuned time (the geometric mean of the per-round ratios, first round dropped)
with a 95% t interval on its logs; the bound is the read plateau of the memory level the cell's
data live in, from the bandwidth curve of the same machine and profile (`no bound` when that
experiment has not run). The verdict comes from the rule in
`tensorbench.experiments.layout_report.blas_verdict`: `met` when the ratio is at least 0.95 and
the tuned kernel is within 1.25x of its bound; `not met` when the interval lies below 0.95 or
the bound is measured and missed; `inconclusive` otherwise.
"""),
        code("""
blas_records, blas_metadata, bw_run = layout.load_blas(profile, results_root or None)
blas_table = layout_report.blas_table(blas_records, bw_run)
tables.write(blas_table, orders.figures_dir, "table_layout_blas",
             title="kernels_rs.matvec against a @ x: BLAS time / tuned time, 95% CI, "
             "fraction of the bound, verdict", **layout_report.BLAS_TABLE_OPTIONS)
tables.show(blas_table, **layout_report.BLAS_TABLE_OPTIONS)
"""),
        code("""
fig = layout_report.blas_figure(blas_table, blas_metadata, profile)
saved = plotting.save(fig, orders.figures_dir, "fig_layout_blas")
plotting.show(fig, layout_report.blas_figure_alt(blas_table))
print("saved:", *saved, sep="\\n  ")
"""),
        md("## What this run finds"),
        code("""
display(Markdown(as_markdown(
    layout_report.findings(orders, causes, p, blas=blas_records, bw_run=bw_run)
)))
"""),
        md("## Where and how this was measured"),
        code("""
display(Markdown(provenance.describe(orders.metadata, [orders.data_dir])))
"""),
    ],
)
