"""Generate notebooks/ttv.ipynb (sparse tensor times vector, paper Figure 4).

Run: ``python tools/make_ttv_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

ENVIRONMENT = """
from tensorbench import provenance

dirs = [r.data_dir for r in (run, headline, frostt, layout) if r is not None]
display(Markdown(provenance.describe(run.metadata, dirs)))
"""

write(
    "notebooks/ttv.ipynb",
    [
        md("""
# Sparse tensor times vector (paper Sections 3.3 and 4.3, Figure 4)

The mode-$k$ product $(\\mathcal{A} \\times_k \\mathbf{x})_{i_1 \\dots i_{k-1} i_{k+1} \\dots i_d}
= \\sum_{i_k} a_{i_1 \\dots i_d}\\, x_{i_k}$ of a sparse COO tensor with a dense vector. As in the
paper: third-order tensors of $n \\times n \\times n$ with density 0.01 from `pyttb.sptenrand`
(seeded; one tensor per size for every trial and implementation), multiplied along the second
dimension (pyttb `dims=1`) by a vector uniform on [0, 1). Generating the large tensors takes
minutes, so they are cached under `cache/` (keyed by shape, density and seed, checked by
SHA-256).

Implementations:
- **pyttb** `sptensor.ttv` as shipped (its version is recorded with the run, below);
- **Python**: the paper's baseline, pyttb's `ttv` with its error checks and the dense conversion
  removed (`tensorbench.experiments.ttv_impls.ttv_python`; pyttb is not edited);
- **Rust from Python**: `kernels_rs.ttv` returns `newsubs, newvals, newshape`, and the
  `pyttb.sptensor` is built in Python inside the timed region, as the paper did;
- **Rust**: the same kernel timed inside Rust (kernel only);
- **Numba**: the Rust kernel's algorithm compiled by Numba (the paper's future work).

The Rust kernel does not copy pyttb's row-wise `np.unique`: it sums into a dense accumulator when
the output space is a small multiple of nnz (`DENSE_OUTPUT_CELLS_PER_NONZERO` in
`kernels_rs/src/sparse.rs`; here always, $n^2$ cells for $0.01 n^3$ nonzeros) and
sorts a linearized key otherwise (hypersparse outputs, such as the real tensor `med.tns`),
so it never allocates a mostly empty output space. The black dash-dotted line is the
memory-traffic bound: the bytes of `subs` and `vals`, read once at the single-core read bandwidth
measured in the same run.

Each (implementation, n) cell runs in its own one-thread worker process. Change `profile` to
`"paper"` for the paper's sizes or `"quick"` for a shorter run (the README gives the wall time
of each recorded run).
A finished run is read back from `data/`, so re-running this notebook is instant.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code("""
from IPython.display import Markdown, display

from tensorbench import plotting, tables
from tensorbench.experiments import dense_report, ttv, ttv_report
from tensorbench.findings import as_markdown

run = ttv.run(profile, results_root or None)
print(f"{len(run.raw)} raw rows from {len(run.summary)} cells in {run.data_dir}")
"""),
        md("## Figure 4: mean runtime against tensor size"),
        code("""
fig = ttv_report.figure4(run)
saved = plotting.save(fig, run.figures_dir, "fig4_ttv")
print("saved:", *saved, sep="\\n  ")
plotting.show(fig, ttv_report.figure4_alt(run))
"""),
        md("""
## Run-to-run spread

Every trial of every implementation at a few n: the later calls as dots over a box (median and
quartiles), the first call as a cross.
"""),
        code("""
fig = ttv_report.spread(run)
plotting.save(fig, run.figures_dir, "spread_ttv")
plotting.show(fig, dense_report.spread_alt(run))
"""),
        md("""
## Mean runtimes (s) and the memory-traffic bound per n

`bound_s` is (bytes of `subs` + `vals`) / (read bandwidth measured in this run).
"""),
        code("""
runtimes = ttv_report.runtime_table(run)
ttv_report.save(run, runtimes, "ttv_runtimes", "Mean runtime (s) of sparse TTV per n")
tables.show(runtimes)
"""),
        md("""
## Speedups (mean time ratios)

`*_vs_pyttb_x`: pyttb's mean time over the implementation's; `rust_from_python_vs_python_x`:
over the paper's Python baseline; `rust_over_bound`: the Rust kernel's mean time over its
memory-traffic bound (1 would be reading the input at full bandwidth).
"""),
        code("""
speedups = ttv_report.speedup_table(run)
ttv_report.save(run, speedups, "speedups_ttv", "Speedups of sparse TTV over pyttb per n")
tables.show(speedups)
"""),
        md("""
## The n = 1200 check

A few trials at n = 1200 ($0.01 n^3$ nonzeros), the size where the paper's figure ends:
the `headline` cell set of the `paper` profile (`data/results/<machine>/paper/ttv-headline`),
measured by `make reproduce` with the rest. Other profiles have no such cell set, and this
notebook reads no other profile's data.
"""),
        code("""
headline = ttv.run_headline(profile, results_root or None)
if headline is None:
    display(Markdown(f"The `{profile}` profile has no n = 1200 cell set (the `paper` one has)."))
else:
    table = ttv_report.headline_table(headline)
    title = "Sparse TTV at n = 1200 (headline cells)"
    ttv_report.save(headline, table, "ttv_headline_n1200", title)
    display(Markdown(f"Recorded in `{headline.data_dir}` ({ttv_report.caption(headline)})"))
    tables.show(table)
"""),
        md("""
## Real tensors (FROSTT format): pyttb vs Rust TTV on every mode

The SPLATT test tensors in `data/tns` (MIT licence). Modes are numbered from 1 (mode 3 is
pyttb `dims=2`). `output_cells` is the size of the output space, `output_nnz` the nonzeros
of the result; `*_peak_MB` is the working memory of one more, untimed call: its peak resident
size above the process's size before it, after the memory freed by the timed calls was handed
back to the system (the tensor itself, `input_MB`, is already loaded).
"""),
        code("""
frostt = ttv.run_frostt(profile, results_root or None)
real = ttv_report.frostt_table(frostt)
ttv_report.save(frostt, real, "ttv_frostt", "Sparse TTV on the FROSTT test tensors, every mode")
tables.show(real)
"""),
        md("""
## Input layout and order

The Rust kernel (timed inside Rust) on the Figure 4 tensors with their subscripts arranged four
ways: rows sorted as `sptenrand` makes them or in a seeded random order, and C-ordered or
Fortran-ordered (`np.asfortranarray(subs)`, pyttb's own layout: one column per mode). The
kernel reads either layout in place, and prefetches each add's accumulator cell a fixed number
of nonzeros ahead when a sample of the input shows scattered cells
(`kernels_rs/src/sparse/dense_accumulator.rs`).
The bound is Figure 4's. Issue 11's targets, at n = 800 and 1200 (the `paper` profile): sorted
C-ordered subs within 2x of the bound, random order within 1.5x of sorted, F-ordered within
1.2x of C-ordered.
"""),
        code("""
from tensorbench.experiments import ttv_layout_report

layout = ttv.run_layout(profile, results_root or None)
if layout is None:
    display(Markdown(f"The `{profile}` profile has no layout cell set."))
else:
    fig = ttv_layout_report.figure(layout)
    saved = plotting.save(fig, layout.figures_dir, "ttv_layout")
    print("saved:", *saved, sep="\\n  ")
    plotting.show(fig, ttv_layout_report.figure_alt(layout))
    arrangement = ttv_layout_report.table(layout)
    title = "Sparse TTV: mean runtime (s) per input layout and order, and the target ratios"
    ttv_report.save(layout, arrangement, "ttv_layout", title)
    tables.show(arrangement)
    display(Markdown(as_markdown(ttv_layout_report.findings(layout))))
"""),
        md("## What held here"),
        code("""
lines = ttv_report.speedup_findings(run, f"Figure 4 run ({profile} profile)")
if headline is not None:
    lines += ttv_report.speedup_findings(headline, "n = 1200 check")
lines += ttv_report.frostt_findings(frostt)
if layout is not None:
    lines += ttv_layout_report.findings(layout)
display(Markdown(as_markdown(lines)))
"""),
        md("## All statistics per cell (the first call excluded)"),
        code("""
columns = ["implementation", "variant", "size", "n_calls", "mean", "median", "std", "min",
           "ci95", "first_call"]
every = [r.summary for r in (run, frostt) if r is not None]
import pandas as pd
display(Markdown(tables.to_markdown(pd.concat(every)[columns].fillna(""))))
"""),
        md("## Where and how this was measured"),
        code(ENVIRONMENT),
    ],
)
