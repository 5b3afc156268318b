"""Generate notebooks/claims.ipynb (the claims report card, every machine side by side).

Run: ``python tools/make_claims_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

write(
    "notebooks/claims.ipynb",
    [
        md("""
# Claims report card: the paper and the TT note, checked on every machine

Every quantitative claim of the paper ("Improving Runtime Performance of Tensor Computations
using Rust From Python") and of the TT inner-product note, each with the rule that checks it,
evaluated on every machine and profile with results under `data/results/`. The published values
come from `data/inputs/published/published-figures.csv`; ours come from the recorded runs, with
95% confidence intervals where the rule has one. A verdict is *held*, *did not hold*, or *not
comparable* when the data the rule needs were not measured in that profile. The rules are in
`src/tensorbench/claims.py`, beside each claim.

The published numbers were measured on another machine (the paper: an AMD EPYC 9345P; the note:
its own machine), so a claim about a ratio is checked as a ratio, and a claim about an absolute
time says how close ours is.
"""),
        params("""
results_root = ""  # empty means this project; tests point this at a temporary folder
profiles = ["paper", "quick"]  # the recorded profiles (the tests' smoke runs: ["smoke"])
"""),
        code("""
from IPython.display import Markdown, display

from tensorbench import claims, comparison, plotting, tables

root = results_root or None
card = claims.report_card(root, profiles)
runs = claims.profile_dirs(root, profiles)
print(f"{card['claim'].nunique()} claims on {len(runs)} machine/profile runs")
"""),
        md("## Summary: how many claims held on each machine"),
        code("""
tables.show(claims.summary(card))
"""),
        md("## Every claim, every machine"),
        code("""
tables.show(claims.wide(card))
"""),
        md("## Claim by claim: the rule, ours and the published value"),
        code("""
display(Markdown(claims.details_markdown(card)))
"""),
        md("""
## Every machine side by side

One figure per experiment; the colours are the implementations', the line styles the machines'.
The published numbers are drawn (black, dotted) where the paper or the note has them.
"""),
        code("""
out_dir = comparison.figures_dir(root)
for name, make in comparison.FIGURES.items():
    fig = make(root, profiles)
    if fig is None:
        display(Markdown(f"No machine has `{name}` results yet."))
        continue
    plotting.save(fig, out_dir, f"compare_{name}")
    plotting.show(fig, comparison.alt(name, root, profiles))
"""),
    ],
)
