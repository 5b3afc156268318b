"""What a reader sees of a real run: the smoke run's rendered notebooks and its index
pages read well offline (no raw TeX, every image with alternative text, every link
resolving to a file, nothing fetched from the network).

Named to run after the notebook tests, whose executed notebooks it reads from the shared
smoke root; any notebook not executed yet is executed here."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import run_notebook

from tensorbench import paths, render, report, site
from tensorbench.experiments import registry
from tensorbench.reproduce import execute_claims


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


@pytest.mark.notebooks
def test_the_smoke_runs_renders_and_index_pages_read_well_offline(smoke_root: Path):
    executed = paths.run_dir("executed", "smoke", smoke_root)
    for run in registry.notebooks():
        if not (executed / f"{run.stem}.html").exists():
            run_notebook(run.stem, smoke_root)
    report.write_findings(paths.machine_label(), "smoke", smoke_root)
    claims_page = execute_claims(smoke_root, ["smoke"]).with_suffix(".html")
    pages = site.build_index(
        paths.kind_root("executed", smoke_root),
        paths.kind_root("figures", smoke_root),
        paths.kind_root("data", smoke_root),
    )
    index = executed / "index.html"
    assert index in pages and paths.kind_root("executed", smoke_root) / "index.html" in pages
    renders = sorted(executed.glob("*.html"))
    assert {p.stem for p in renders} >= {r.stem for r in registry.notebooks()}
    for page in [*pages, *renders, claims_page]:
        assert render.offline_problems(page, allow_external_links=False) == [], page.name
    # The report card saw this machine's smoke run and links from the top page.
    card = claims_page.read_text(encoding="utf-8")
    assert paths.machine_label() in card and "held" in card
    top = (paths.kind_root("executed", smoke_root) / "index.html").read_text(encoding="utf-8")
    assert 'href="claims.html"' in top
    links = _Links()
    links.feed(index.read_text(encoding="utf-8"))
    linked = {href.split("#")[0] for href in links.hrefs}
    assert {f"{r.stem}.html" for r in registry.notebooks()} <= linked
    # Findings reach the index: the dot notebook's entry lists them.
    articles = index.read_text(encoding="utf-8").split("<article>")
    dot_entry = next(a for a in articles if 'href="dot.html"' in a)
    assert "No findings recorded" not in dot_entry and "<li>" in dot_entry
