"""Generate notebooks/tt_overhead.ipynb.

Run: ``python tools/make_tt_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

ENVIRONMENT = """
from tensorbench import provenance

display(Markdown(provenance.describe(
    run.metadata, [run.data_dir], ["**Thread pools:** the TT kernels never use one"]
)))
"""

write(
    "notebooks/tt_overhead.ipynb",
    [
        md("""
# Per-call overhead: the Tensor Train inner-product study, from Python

The 2026 note on Tensor Train (MPS) inner products (`data/published/README.md`) found that at
small bond dimension a contraction's cost is per-call overhead (dispatch, thread-pool entry,
validation, allocation), not arithmetic. Here the same contractions are called from Python.

**Workload** (complex128, physical dimension d = 2, one thread; NumPy C-order arrays with the
axes in the note's order; bra operands conjugated):

| contraction | definition | output |
|---|---|---|
| `first_site` | `np.einsum("sa,sb->ab", bra_first.conj(), ket_first)` | `[chi_bra, chi_ket]` |
| `env_bra` | `np.einsum("ab,asc->bsc", env, bra.conj())` | `[chi_ket, d, chi_bra']` |
| `tmp_ket` | `np.einsum("bsc,bse->ce", tmp, ket)` | `[chi_bra', chi_ket']` |
| `site_update` | `tmp_ket(env_bra(env, bra), ket)` | `[chi_bra', chi_ket']` |
| chain | `env = [[1]]`, `site_update` at each of L = 32 sites (64 contractions) | `<bra|ket>` |

(`first_site` operands are `[d, chi]`, site tensors `[chi_left, d, chi_right]`; the chain's
bonds are 1, chi, ..., chi, 1.)

**Implementations**: NumPy `einsum` (`optimize=False`); NumPy `matmul` on reshaped views (the
`tensordot` formulation); `opt_einsum` with expressions precompiled for the shapes; direct BLAS
`zgemm` through SciPy on Fortran-ordered views (no input copies), once with the bra conjugated
before timing and once with a conjugated copy in every call (the note's lower bound);
`kernels_rs` from Python, one call per contraction (`tt_first_site`, `tt_env_bra`,
`tt_tmp_ket`, `tt_site_update`; the chain as a Python loop of 64 calls); `kernels_rs.tt_inner`,
the whole chain in one call; and the same Rust kernels timed inside Rust, the floor. Every
result is checked against plain `np.einsum` (relative error at most 1e-12) before its timings
are kept.

**Timing.** A call can take well under a microsecond, below what one `perf_counter_ns`
bracket resolves, so each sample times a batch of back-to-back calls (the smallest power of two
lasting at least `min_sample_seconds`) and divides by the batch size; the first call of each
cell is timed alone and reported apart. Each (implementation, case, chi) cell runs in a fresh
worker process with every thread pool at one thread. The statistic is the **median** over
samples, as the note reports for ITensors.jl (its tenferro-rs figures are means).

**Published values** from the note (ITensors.jl, tenferro-rs, direct OpenBLAS) are shown beside
ours; they were measured on **another machine** and are labelled as such.

Change `profile` below to `"paper"` (every case, more samples) or `"smoke"` (tiny). A
finished run is read back from `data/`, so re-running this notebook is instant.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code("""
from IPython.display import Markdown, display

from tensorbench import plotting, tables
from tensorbench.experiments import tt_overhead as tt
from tensorbench.findings import as_markdown

run = tt.run(profile, results_root or None)
info = tt.cell_extras(run)
paths = sorted(set(info.loc[info["tiled_path"] != "", "tiled_path"]))
print(f"{len(run.raw)} raw rows from {len(run.summary)} cells in {run.data_dir}")
print("Rust kernels' tiled code path on this machine:", ", ".join(paths) or "not recorded")
"""),
        md("""
## site_update per chi (the note's first table, rebuilt from our data)

Median time per call in microseconds. The `published` columns are the note's values, measured
on another machine (ITensors.jl: median; tenferro-rs and direct OpenBLAS: Criterion means).
"""),
        code("""
site_table = tt.comparison_table(run, "site_update")
tables.write(site_table, run.figures_dir, "tt_site_update",
             title="site_update per chi, median us per call\\n\\n" + run.caption())
tables.show(site_table)
"""),
        md("## Figure: time per site_update against chi, every implementation"),
        code("""
fig = tt.figure(run, "site_update")
saved = plotting.save(fig, run.figures_dir, "fig_tt_site_update")
plotting.show(fig, tt.figure_alt(run, "site_update"))
print("saved:", *saved, sep="\\n  ")
"""),
        md("""
## The L = 32 chain per chi (the note's chain table, rebuilt from our data)

Median time of one whole `<bra|ket>` (64 contractions) in microseconds, beside the note's
tenferro-rs means (another machine): a fresh backend per chain and one execution session for
the whole chain.
"""),
        code("""
chain_table = tt.comparison_table(run, "chain")
tables.write(chain_table, run.figures_dir, "tt_chain",
             title="L = 32 chain per chi, median us per call\\n\\n" + run.caption())
tables.show(chain_table)
fig = tt.figure(run, "chain")
saved = plotting.save(fig, run.figures_dir, "fig_tt_chain")
plotting.show(fig, tt.figure_alt(run, "chain"))
"""),
        md("## What held here"),
        code("""
display(Markdown(as_markdown(tt.findings(run))))
"""),
        md("""
## Calling from Python against the Rust floor, timed alternately

Each Rust-from-Python cell also alternates, round by round in the same process, one sample of
its call from Python with one sample of the same contraction timed inside Rust
(`kernels_rs.bench_tt`), so both halves of each pair see the same background load. Medians of
per-call seconds; `ratio` = from Python / inside Rust. (For the chain, the
`rust_from_python` row is the Python loop of 64 calls against the whole chain inside Rust.)
"""),
        code("""
paired = tt.paired_table(run)
tables.write(paired, run.figures_dir, "tt_paired",
             title="From Python vs inside Rust, alternating samples\\n\\n" + run.caption())
tables.show(paired)
"""),
        md("""
## Every case measured: medians (us) and the cost of calling from Python

`python/rust (separate cells)` is Rust from Python (one call) over the same kernel timed inside
Rust, each from its own cell (seconds apart, so background-load noise enters the ratio).
"""),
        code("""
cases = tt.case_table(run)
tables.write(cases, run.figures_dir, "tt_cases", title="Median us per call\\n\\n" + run.caption())
tables.show(cases)
"""),
        md("""
## Agreement with the np.einsum reference

Largest relative error (max-norm) of each implementation's first-call result against plain
`np.einsum`, per case; a cell whose error exceeds 1e-12 fails instead of being recorded.
"""),
        code("""
accuracy = tt.accuracy_table(run)
tables.write(accuracy, run.figures_dir, "tt_accuracy", title="Max relative error vs np.einsum")
tables.show(accuracy)
"""),
        md("""
## All statistics per cell

Seconds per call; `first_call` is the first call in its fresh process, timed alone;
`calls_per_sample` is the batch size of each sample.
"""),
        code("""
columns = ["case", "implementation", "chi", "n_calls", "median", "q25", "q75", "mean", "min",
           "first_call"]
detail = run.summary[columns].merge(
    info[["case", "chi", "implementation", "calls_per_sample"]],
    on=["case", "chi", "implementation"], how="left")
tables.show(detail.sort_values(["case", "implementation", "chi"]))
"""),
        md("## Where and how this was measured"),
        code(ENVIRONMENT),
    ],
)
