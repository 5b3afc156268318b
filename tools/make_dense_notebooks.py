"""Generate notebooks/dot.ipynb and notebooks/matvec.ipynb.

Run: ``python tools/make_dense_notebooks.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

COMMON_SETUP = """
from IPython.display import Markdown, display

from tensorbench import plotting, tables
from tensorbench.experiments import dense_report
from tensorbench.findings import as_markdown
"""

ENVIRONMENT = """
from tensorbench import provenance

display(Markdown(provenance.describe(run.metadata, [run.data_dir])))
"""

write(
    "notebooks/dot.ipynb",
    [
        md("""
# Vector dot product (paper Section 4.1, Figure 2, Table 1)

The dot product $x \\cdot y = \\sum_i x_i y_i$ of two float64 vectors drawn fresh for every trial
(uniform on [0, 1), seeded), timed as the paper did: the first call in a fresh process is timed
apart, then `n_trials` calls; each (implementation, n) cell runs in its own worker process with
every thread pool pinned to one thread.

Implementations: the pure Python loop, the same loop compiled by Numba (`@njit`), Rust timed
inside Rust on data generated in Rust, Rust called from Python (`kernels_rs.dot_loop`), and
NumPy's `np.dot` as the reference line. Beside the paper's plain loop, the tuned Rust dot
(`kernels_rs.dot`: several accumulators, vectorizable) is reported too.

Change `profile` below to `"paper"` for the paper's sizes or `"quick"` for a shorter run (the README
gives the wall time of each recorded run). A
finished run is read back from `data/`, so re-running this notebook is instant.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code(
            COMMON_SETUP
            + """
from tensorbench.experiments import dot, dot_report

run = dot.run(profile, results_root or None)
print(f"{len(run.raw)} raw rows from {len(run.summary)} cells in {run.data_dir}")
"""
        ),
        md("## Figure 2: mean runtime against vector length"),
        code("""
fig = dense_report.figure(run, x="size", xlabel="vector length n",
                          title="Figure 2: vector dot product",
                          bytes_of=lambda rows: dot.bytes_read(rows["size"]))
saved = plotting.save(fig, run.figures_dir, "fig2_dot")
plotting.show(fig, dense_report.figure_alt(run, x="size", xlabel="vector length n"))
print("saved:", *saved, sep="\\n  ")
"""),
        md("The same with the tuned Rust dot (dashed) beside the paper's plain loops:"),
        code("""
fig = dense_report.figure(run, x="size", xlabel="vector length n", extended=True,
                          title="Figure 2 (extended): plain and tuned Rust",
                          bytes_of=lambda rows: dot.bytes_read(rows["size"]))
saved = plotting.save(fig, run.figures_dir, "fig2_dot_extended")
plotting.show(fig, dense_report.figure_alt(run, x="size", xlabel="vector length n", extended=True))
"""),
        md("""
## Run-to-run spread

Every trial of every implementation at a few sizes: the later calls as dots over a box (median
and quartiles), the first call as a cross. The first call of Numba includes its compilation.
"""),
        code("""
title = "Dot product: every trial"
fig = dense_report.spread(run, x="size", xlabel="vector length n", title=title)
plotting.save(fig, run.figures_dir, "spread_dot")
plotting.show(fig, dense_report.spread_alt(run))
"""),
        md("""
## Table 1: estimated first-call overhead

Estimated as (first call) - (mean of the later calls) per size, each size in a fresh process, as
the paper did. The paper's published values (AMD EPYC 9345P) are shown beside ours; they were
measured on another machine.
"""),
        code("""
table1 = dense_report.first_call_table(run, "dot")
dense_report.save_table(run, table1, "table1_dot_first_call",
                        "Table 1: estimated first-call overhead (s), dot product")
tables.show(table1)
"""),
        md("## Speedup over the pure Python loop (mean time ratio)"),
        code("""
speedups = dense_report.speedup_table(run)
dense_report.save_table(run, speedups, "speedups_dot", "Speedup over the Python loop, dot")
tables.show(speedups)
"""),
        md("## What held here"),
        code("""
display(Markdown(as_markdown(dot_report.findings(run))))
"""),
        md("## All statistics per cell (the first call excluded)"),
        code("""
columns = [
    "implementation", "size", "n_calls", "mean", "median", "std", "min", "ci95", "first_call",
]
tables.show(run.summary[columns])
"""),
        md("## Where and how this was measured"),
        code(ENVIRONMENT),
    ],
)

write(
    "notebooks/matvec.ipynb",
    [
        md("""
# Dense matrix-vector product (paper Section 4.2, Figures 3a-c, Table 2)

$y = A x$ for a C-ordered float64 matrix $A$ and a vector $x$, both drawn fresh for every trial
(uniform on [0, 1), seeded). The parameter `regime` selects one of the paper's three experiments:
`rows` (n1 grows, n2 = 100), `cols` (n2 grows, n1 = 100), `square` (n1 = n2 grow). `make
reproduce` executes this notebook once per regime.

Implementations: the pure Python nested loop, the same loop compiled by Numba, Rust timed inside
Rust, Rust from Python (`kernels_rs.matvec_loop`: the paper's loop), NumPy `A @ x` as the
reference, and the tuned `kernels_rs.matvec` (row dots for C order, column updates for Fortran
order, no copies). Each (implementation, shape) runs in its own one-thread worker process.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
regime = "square"  # rows | cols | square
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code(
            COMMON_SETUP
            + """
from tensorbench.experiments import matvec

run = matvec.run(profile, regime, results_root or None)
fixed = matvec.fixed_dimension(run, regime)
print(f"{len(run.raw)} raw rows from {len(run.summary)} cells in {run.data_dir}")
"""
        ),
        md("## Figure 3: mean runtime against matrix size"),
        code("""
number = matvec.FIGURE_NUMBERS[regime]
fig = dense_report.figure(run, x="n", xlabel=matvec.AXIS_LABELS[regime].format(fixed=fixed),
                          title=f"Figure {number}: matrix-vector product, regime '{regime}'",
                          bytes_of=lambda rows: matvec.bytes_moved(rows["n1"], rows["n2"]))
saved = plotting.save(fig, run.figures_dir, f"fig{number}_matvec_{regime}")
xlabel = matvec.AXIS_LABELS[regime].format(fixed=fixed)
plotting.show(fig, dense_report.figure_alt(run, x="n", xlabel=xlabel))
print("saved:", *saved, sep="\\n  ")
"""),
        code("""
fig = dense_report.figure(run, x="n", xlabel=matvec.AXIS_LABELS[regime].format(fixed=fixed),
                          extended=True,
                          title=f"Figure {number} (extended): plain and tuned Rust, '{regime}'",
                          bytes_of=lambda rows: matvec.bytes_moved(rows["n1"], rows["n2"]))
saved = plotting.save(fig, run.figures_dir, f"fig{number}_matvec_{regime}_extended")
plotting.show(fig, dense_report.figure_alt(run, x="n", xlabel=xlabel, extended=True))
"""),
        md("""
## Run-to-run spread

Every trial of every implementation at a few sizes: the later calls as dots over a box (median
and quartiles), the first call as a cross.
"""),
        code("""
fig = dense_report.spread(run, x="n", xlabel=xlabel, title=f"matvec '{regime}': every trial")
plotting.save(fig, run.figures_dir, f"spread_matvec_{regime}")
plotting.show(fig, dense_report.spread_alt(run))
"""),
        md("""
## Table 2: estimated first-call overhead (square matrices)

(first call) - (mean of the later calls), by number of matrix elements. The paper's Table 2
covers the square regime only; its published values (AMD EPYC 9345P, another machine) appear
beside ours where the sizes match.
"""),
        code("""
table2 = dense_report.first_call_table(run, "matvec_square")
stem = "table2_matvec_first_call" + ("" if regime == "square" else f"_{regime}")
dense_report.save_table(run, table2, stem,
                        f"Table 2: estimated first-call overhead (s), matvec '{regime}'")
tables.show(table2)
"""),
        md("## Speedup over the pure Python loop (mean time ratio)"),
        code("""
speedups = dense_report.speedup_table(run, by="n")
dense_report.save_table(run, speedups, f"speedups_matvec_{regime}",
                        f"Speedup over the Python loop, matvec '{regime}'")
tables.show(speedups)
"""),
        md("## What held here"),
        code("""
display(Markdown(as_markdown(matvec.findings(run, regime))))
"""),
        md("## All statistics per cell (the first call excluded)"),
        code("""
columns = [
    "implementation", "n1", "n2", "n", "n_calls", "mean", "median", "std", "min", "ci95",
    "first_call",
]
tables.show(run.summary[columns])
"""),
        md("## Where and how this was measured"),
        code(ENVIRONMENT),
    ],
)
