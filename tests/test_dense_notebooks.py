"""The dot and matvec notebooks run end to end at the smoke profile and produce their
figures and tables; source notebooks carry no outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import data_dir, figures_dir, run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_source_notebooks_have_no_outputs_and_a_parameters_cell(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert any("parameters" in c["metadata"].get("tags", []) for c in code)
    assert nb["metadata"]["kernelspec"]["name"] == "tensorbench"


@pytest.mark.notebooks
def test_dot_notebook_produces_figure_2_and_table_1(smoke_root):
    nb = run_notebook("dot", smoke_root)
    figures = figures_dir(smoke_root)
    for stem in ("fig2_dot", "fig2_dot_extended"):
        assert (figures / f"{stem}.png").stat().st_size > 10_000
        assert (figures / f"{stem}.pdf").exists()
    table = pd.read_csv(figures / "table1_dot_first_call.csv")
    assert {"rust_from_python_here_s", "rust_from_python_paper_s", "numba_here_s"} <= set(table)
    assert (figures / "table1_dot_first_call.md").read_text().count("|") > 10
    assert (figures / "speedups_dot.csv").exists()
    raw = pd.read_csv(data_dir(smoke_root) / "dot" / "raw.csv")
    assert set(raw["implementation"]) == {
        "python",
        "numba",
        "rust",
        "rust_from_python",
        "numpy",
        "rust_tuned",
        "rust_from_python_tuned",
        "read_bandwidth",  # the probe behind the memory-traffic bound of the figure
    }
    text = json.dumps(nb)
    assert "Rust from Python over the Python loop" in text  # findings computed from the data


@pytest.mark.notebooks
@pytest.mark.parametrize(("regime", "number"), [("rows", "3a"), ("cols", "3b"), ("square", "3c")])
def test_matvec_notebook_produces_figure_3_per_regime(smoke_root, regime, number):
    run_notebook(f"matvec-{regime}", smoke_root)
    figures = figures_dir(smoke_root)
    assert (figures / f"fig{number}_matvec_{regime}.png").stat().st_size > 10_000
    assert (figures / f"fig{number}_matvec_{regime}.pdf").exists()
    assert (figures / f"speedups_matvec_{regime}.csv").exists()
    if regime == "square":
        assert (figures / "table2_matvec_first_call.csv").exists()


@pytest.mark.notebooks
def test_profile_estimate_and_readme_report_from_recorded_data(smoke_root, tmp_path):
    from tensorbench import estimate, report

    # Runs after the notebook tests above, which recorded every dense smoke cell.
    dense = ("dot", "matvec")
    cells = estimate.cell_seconds("smoke", "smoke", smoke_root, dense)
    assert cells is not None
    seconds = estimate.by_experiment(cells)
    assert set(seconds) == set(dense)
    assert all(s > 0 for s in seconds.values())
    # Side by side can only shorten the run, and never below its alone cells.
    serial, wide = estimate.wall_seconds(cells, 1), estimate.wall_seconds(cells, 16)
    assert sum(s for _, _, s, alone in cells if alone) <= wide < serial
    assert estimate.cell_seconds("smoke", "smoke", tmp_path, dense) is None  # nothing there

    readme = tmp_path / "README.md"
    (tmp_path / "data" / "results").mkdir(parents=True)
    readme.write_text(f"# x\n\n{report.BEGIN}\nold\n{report.END}\n\ntail\n")
    report.update_readme(readme, tmp_path)
    text = readme.read_text()
    assert "old" not in text and "No results recorded yet" in text and text.endswith("tail\n")
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="results:begin"):
        report.update_readme(readme, tmp_path)
