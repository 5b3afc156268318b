"""Generate notebooks/mttkrp.ipynb (sparse MTTKRP and CP-ALS: the pyttb drop-in).

Run: ``python tools/make_mttkrp_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

write(
    "notebooks/mttkrp.ipynb",
    [
        md("""
# Sparse MTTKRP and CP-ALS: Rust inside pyttb, without changing pyttb code

The paper's future work (Section 5) names the matricized tensor times Khatri-Rao product
(MTTKRP), decompositions built on it, Numba on more advanced kernels and on-node concurrency.
MTTKRP is the kernel of CP-ALS: for a sparse tensor $\\mathcal{X}$ of order $d$ and factor
matrices $U^{(m)}$ with $R$ columns, the mode-$n$ MTTKRP is

$$M_{i,:} = \\sum_{k:\\ s_{k,n} = i} x_k \\prod_{m \\neq n} U^{(m)}_{s_{k,m},:}$$

(the product taken entrywise over the $R$ columns). pyttb 1.8.6 computes it as $R$ separate
tensor-times-vector products, each building an sptensor. `kernels_rs.mttkrp` does it in one
pass over the nonzeros, and `kernels_rs.pyttb` puts it behind pyttb's own method. A pyttb user
changes nothing but this:

```python
import pyttb as ttb
import kernels_rs.pyttb

kernels_rs.pyttb.enable()            # sptensor.ttv, .mttkrp and .innerprod now run in Rust
M, init, out = ttb.cp_als(X, 16)     # the user's code, unchanged
kernels_rs.pyttb.disable()           # pyttb's own methods back, exactly
```

(`with kernels_rs.pyttb.enabled(): ...` does the same for a block.) The replaced methods give
pyttb's results in pyttb's layouts, and for bad input pyttb's exceptions; pyttb's own test suite
and doctests pass with acceleration on (`tests/test_pyttb_suite.py`).

Implementations measured here, each cell in its own worker process:
- **pyttb**: `sptensor.mttkrp` as shipped;
- **Numba (one pass)**: the Rust kernel's algorithm compiled by Numba;
- **Rust from Python (drop-in, 1 thread)**: the same `X.mttkrp(U, mode)` call with the drop-in
  enabled and `kernels_rs.set_num_threads(1)`;
- **Rust from Python (drop-in, every core)**: the same with every core this machine gives the
  worker (the kernels' own thread pool; the GIL is released while they run).

The tensors are the TTV experiment's $n \\times n \\times n$ `sptenrand` tensors (density 0.01,
the same seeds and cache), the factors uniform on [0, 1). The black dash-dotted line is the
memory-traffic bound: the bytes of `subs`, `vals`, the factor rows and the output, read once at
the single-core read bandwidth measured in the same run.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code("""
from IPython.display import Markdown, display

from tensorbench import plotting, provenance, tables
from tensorbench.experiments import mttkrp, mttkrp_report
from tensorbench.findings import as_markdown

run = mttkrp.run(profile, results_root or None)
print(f"{len(run.raw)} raw rows from {len(run.summary)} cells in {run.data_dir}")
"""),
        md("## MTTKRP runtime against tensor size, every rank and mode"),
        code("""
fig = mttkrp_report.figure(run)
saved = plotting.save(fig, run.figures_dir, "fig_mttkrp")
print("saved:", *saved, sep="\\n  ")
plotting.show(fig, mttkrp_report.figure_alt(run))
"""),
        md("""
## Mean runtimes (s), means over the three modes

`bound_s` is the bytes an MTTKRP must move (subs, vals, the factor rows and the output) over the
read bandwidth measured in this run.
"""),
        code("""
runtimes = mttkrp_report.runtime_table(run)
mttkrp_report.save(run, runtimes, "mttkrp_runtimes", "Mean runtime (s) of sparse MTTKRP")
tables.show(runtimes)
"""),
        md("""
## Best call per mode, and the speedup over stock pyttb

The issue's check is the best call of each implementation at $n = 400$, $R = 16$, one thread.
"""),
        code("""
best = mttkrp_report.best_of_table(run)
mttkrp_report.save(run, best, "mttkrp_best_of", "Best call (s) of sparse MTTKRP per mode")
tables.show(best)
"""),
        md("""
## Every core against one thread

Speedup of the drop-in on every core over the same call on one thread, and the parallel
efficiency (speedup / threads). `notebooks/threads.ipynb` has the scaling curves.
"""),
        code("""
scaling = mttkrp_report.scaling_table(run)
if scaling.empty:
    display(Markdown("No every-core cells in this run."))
else:
    mttkrp_report.save(run, scaling, "mttkrp_scaling", "MTTKRP on every core")
    tables.show(scaling)
"""),
        md("""
## CP-ALS end to end: stock pyttb against the drop-in

`pyttb.cp_als` run for exactly the profile's number of iterations (`stoptol=0`) from one fixed
initial ktensor, stock and with the drop-in enabled (and `kernels_rs.cp_als`, a native sparse
CP-ALS with pyttb's algorithm and result types, where the installed kernels have it). Every
run's final fit is recorded: the fits must be equal.
"""),
        code("""
cp = mttkrp.run_cp_als(profile, results_root or None)
table = mttkrp_report.cp_als_table(cp)
mttkrp_report.save(cp, table, "mttkrp_cp_als", "CP-ALS end to end")
display(Markdown(f"Recorded in `{cp.data_dir}` ({mttkrp_report.caption(cp)})"))
tables.show(table)
"""),
        md("## What held here"),
        code("""
lines = mttkrp_report.mttkrp_findings(run) + mttkrp_report.cp_als_findings(cp)
display(Markdown(as_markdown(lines)))
"""),
        md("## Where and how this was measured"),
        code("""
display(Markdown(provenance.describe(run.metadata, [run.data_dir, cp.data_dir])))
"""),
    ],
)
