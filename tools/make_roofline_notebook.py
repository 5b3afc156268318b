"""Generate notebooks/roofline.ipynb (the bandwidth curve, its plateaus, and every kernel
placed on it: issue 11).

Run: ``python tools/make_roofline_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

write(
    "notebooks/roofline.ipynb",
    [
        md("""
# The memory-bandwidth limit of one core, and every kernel against it

A kernel that must move $B$ bytes cannot take less than $B / \\beta$ seconds, where $\\beta$ is
the bandwidth of the memory level its data live in. This notebook measures $\\beta$ as an upper
bound, STREAM-style, on one core: `kernels_rs.stream_bandwidth` runs **read** (a sum), **copy**
(`b = a`) and **triad** (`a = b + q c`) over working sets from 16 KiB to 1 GiB (the profile
says which), each in several variants (1 to 8 interleaved streams, 1 to 4 SIMD vectors per
stream per step, on the widest SIMD loads the CPU has, buffers on huge pages as NumPy's are),
best of several timings; a small working set repeats passes inside a timing so that every timing
lasts at least `min_seconds`. Bytes are counted as STREAM counts them: every array once per pass
(the write-allocate traffic of copy and triad is not counted).

The levels are this machine's caches (L1 data, L2, L3 of CPU 0, from sysfs) and DRAM beyond
them; a cache level's plateau is the best rate measured from twice the level before on, DRAM's
from four times the last cache on (an AMD L3 still serves part of a stream twice its size), or
at the largest size measured when the curve stops short of that. The bound of a
kernel cell is the plateau of the level where its working set lives
(`tensorbench.experiments.bandwidth_levels.bound_for`), and a cell measured faster than its bound
is a **probe error**: drawn and counted as one, never as within the limit.
"""),
        params("""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code("""
from IPython.display import Markdown, display

from tensorbench import plotting, tables
from tensorbench.experiments import bandwidth, roofline
from tensorbench.findings import as_markdown

run = bandwidth.run(profile, results_root or None)
print(f"{len(run.raw)} timings of {len(run.curve)} (kernel, working set) cells in {run.data_dir}")
"""),
        md("## Bandwidth against working-set size"),
        code("""
fig = roofline.curve_figure(run, "Single-core bandwidth against working-set size")
saved = plotting.save(fig, run.figures_dir, "bandwidth_curve")
plotting.show(fig, roofline.curve_alt(run))
print("saved:", *saved, sep="\\n  ")
"""),
        md("""
Each level's plateau per kernel (the best rate in the level's range; "points" counts the working
sets measured there):
"""),
        code("""
plateaus = bandwidth.plateau_table(run)
plateaus = plateaus[["kernel", "level", "from_bytes", "to_bytes", "points", "GB/s"]]
tables.write(plateaus, run.figures_dir, "bandwidth_plateaus",
             title=f"Bandwidth plateaus per level\\n\\n{run.caption()}")
tables.show(plateaus)
"""),
        md("""
## `read_bandwidth()` against NumPy

`kernels_rs.read_bandwidth()` (the best read variant over one buffer of the profile's
`numpy_bytes`, below as `n1`) beside `np.sum` of one array and `np.dot` of two different arrays
of that size, measured in one process (`tensorbench.bandwidth.numpy_read_rates`). The probe must
reach at least `tensorbench.bandwidth.TARGET` times the faster of the two (the finding below
says whether it did).
"""),
        code("""
comparison = run.numpy[["reader", "n1", "bytes_per_second"]].assign(
    **{"GB/s": run.numpy["bytes_per_second"] / 1e9}
)
tables.show(comparison)
display(Markdown(as_markdown(bandwidth.findings(run))))
"""),
        md("""
## Every kernel on the roofline: bytes moved against time

The dot, matvec and TTV cells of this profile that are on disk (run those notebooks first), each
at its mean time per call, against the bound of the level its inputs live in. Interpreted loops
(Python, pyttb) are in the table but not drawn.
"""),
        code("""
placed = roofline.points(run, profile, results_root or None)
fig = roofline.roofline_figure(placed, run, "Kernels against the memory-traffic bound")
saved = plotting.save(fig, run.figures_dir, "roofline")
plotting.show(fig, roofline.roofline_alt(placed))
display(Markdown(as_markdown(roofline.findings_lines(placed))))
"""),
        md("""
Per implementation: cells within their bound, probe errors, and the fraction of the bound at
the largest size:
"""),
        code("""
summary = roofline.summary_table(placed)
tables.write(summary, run.figures_dir, "roofline_summary",
             title=f"Kernels against their bound\\n\\n{run.caption()}")
tables.show(summary)
"""),
        md("Every cell, with its level, bound and fraction of the bound:"),
        code("""
tables.show(placed)
"""),
        md("## Where and how this was measured"),
        code("""
from tensorbench import provenance

display(Markdown(provenance.describe(run.metadata, [run.data_dir])))
"""),
    ],
)
