"""Generate notebooks/threads.ipynb (thread scaling of the kernels called from Python).

Run: ``python tools/make_threads_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

write(
    "notebooks/threads.ipynb",
    [
        md("""
# Thread scaling: from one thread to every core

The paper's future work includes on-node concurrency. The kernels_rs kernels take a `threads=`
argument (default `kernels_rs.get_num_threads()`: `kernels_rs.set_num_threads(n)`, else
`KERNELS_RS_NUM_THREADS`, `RAYON_NUM_THREADS` or `OMP_NUM_THREADS`, else every core the process
may use, as NumPy's BLAS does). They run on a thread pool owned by kernels_rs (the global Rayon
pool is left alone), release the GIL while a large call runs, and run a call too small to split
inline on the calling thread, because entering a pool costs microseconds (see
`notebooks/call_overhead.ipynb`).

Each measurement cell is one (kernel, size), measured alone on the machine in its own worker
process: the kernel is called with `threads=k` for every thread count k, the counts interleaved
round by round, so every ratio below is measured side by side in one process. Each sample is a
batch of calls (as many as the 1-thread call needs to last the profile's `min_sample_seconds`,
the same batch for every k), divided by the number of calls. The thread counts are the powers of
two up to the cores the run may use, and that count itself. The machine's label and CPU are in
the caption: on a 2-core VM the ceiling is 2x.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code("""
from IPython.display import Markdown, display

from tensorbench import plotting, provenance, tables
from tensorbench.experiments import threads, threads_report
from tensorbench.findings import as_markdown

run = threads.run(profile, results_root or None)
print(f"{len(run.raw)} raw rows from {len(run.summary)} cells in {run.data_dir}")
"""),
        md("## Speedup over one thread against size"),
        code("""
fig = threads_report.figure(run)
saved = plotting.save(fig, run.figures_dir, "fig_threads")
print("saved:", *saved, sep="\\n  ")
plotting.show(fig, threads_report.figure_alt(run))
"""),
        md("""
## Per-call time, speedup and parallel efficiency

`slower_than_1_thread` / `faster_than_1_thread`: the 95% confidence intervals of the two mean
times do not overlap and the means differ by more than 5%
(`tensorbench.experiments.threads_report.MATERIAL`).
"""),
        code("""
table = threads_report.scaling_table(run)
threads_report.save(run, table, "threads_scaling", "Thread scaling per kernel and size")
tables.show(table)
"""),
        md("## What held here"),
        code("""
display(Markdown(as_markdown(threads_report.findings(run))))
"""),
        md("## Where and how this was measured"),
        code("""
display(Markdown(provenance.describe(run.metadata, [run.data_dir])))
"""),
    ],
)
