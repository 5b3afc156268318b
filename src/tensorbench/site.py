"""Index pages of the rendered notebooks: where a reader starts, offline, by double click.

``executed/<machine>/<profile>/index.html`` lists each rendered notebook with its title,
a thumbnail of its main figure (its first figure, embedded), its wall time and its
findings, a line each; ``executed/index.html`` lists every machine and profile that has
results. Links are relative, images embedded; nothing is fetched.

Findings come from ``figures/<machine>/<profile>/<stem>.findings.json`` (written by the
harness; a notebook without one shows none): a JSON list of objects with the keys of
:data:`FINDING_KEYS`, e.g.
``[{"claim": "Rust from Python vs Python at n = 1e6", "value": "212x",
"published": "> 100x", "verdict": "held"}]``. ``value``, ``published`` and ``verdict``
may be null or empty (not measured in this profile, no published value). A finding that
checks no claim carries its sentence in ``text`` instead (the shape of
:class:`tensorbench.findings.Finding`, whose ``experiment`` names the notebook).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tensorbench import results
from tensorbench.render import MathError, tex_to_mathml

FINDING_KEYS = ("claim", "value", "published", "verdict", "text", "experiment")
THUMBNAIL_WIDTH = 320  # pixels
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?P<tex>[^$]+?)\$")

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 64em; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
p.lead { color: #555; margin-top: 0; }
article { display: flex; gap: 1.2em; border-top: 1px solid #ddd; padding: 1em 0; }
article img { width: 320px; height: auto; border: 1px solid #eee; flex: none; }
article .noimage { width: 320px; flex: none; color: #777; font-style: italic; }
article h2 { font-size: 1.15em; margin: 0 0 0.3em 0; }
article .meta { color: #555; font-size: 0.9em; margin: 0 0 0.5em 0; }
article ul { margin: 0; padding-left: 1.2em; font-size: 0.95em; }
.held { color: #01704b; font-weight: 600; }
.not-held { color: #b34700; font-weight: 600; }
table { border-collapse: collapse; }
td, th { padding: 0.3em 0.9em; border-bottom: 1px solid #ddd; text-align: left; }
"""


@dataclass(frozen=True)
class Finding:
    claim: str
    value: str | None = None
    published: str | None = None
    verdict: str | None = None
    text: str | None = None  # the sentence of a finding that checks no claim
    experiment: str | None = None  # the notebook it belongs to (informational)

    def line(self) -> str:
        """'claim: value here (published: p) — verdict' as escaped HTML; a finding without
        a claim is its sentence."""
        if not self.claim:
            return _inline_html(self.text or "")
        text = _inline_html(self.claim)
        if self.value is not None:
            text += f": <b>{html.escape(str(self.value))}</b> here"
        else:
            text += ": not measured here"
        if self.published is not None:
            text += f" (published: {html.escape(str(self.published))})"
        if self.verdict is not None:
            verdict = str(self.verdict)
            held = verdict.strip().lower() in {"held", "holds", "yes", "agrees"}
            css = "held" if held else "not-held"
            text += f' — <span class="{css}">{html.escape(verdict)}</span>'
        return text


@dataclass(frozen=True)
class NotebookEntry:
    stem: str
    title: str
    html_name: str | None  # the rendered page beside the index, if there is one
    seconds: float | None
    thumbnail: str | None  # data: URI
    thumbnail_alt: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)


def read_findings(path: Path) -> tuple[Finding, ...]:
    """The findings in ``path`` (none if the file does not exist). Raises ValueError
    naming the file and the entry when it is not a list of findings."""
    path = Path(path)
    if not path.exists():
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    return parse_findings(data, str(path))


def parse_findings(data, source: str = "findings") -> tuple[Finding, ...]:
    """Check ``data`` (a list of finding objects, see the module docstring); ``source``
    names it in the ValueError/TypeError raised for a bad entry."""
    if not isinstance(data, list | tuple):
        raise TypeError(f"{source}: findings must be a list, got {type(data).__name__}")
    findings = []
    for index, entry in enumerate(data):
        if not isinstance(entry, Mapping):
            raise TypeError(f"{source}: finding {index} must be an object, got {entry!r}")
        unknown = set(entry) - set(FINDING_KEYS)
        if unknown:
            raise ValueError(f"{source}: finding {index} has unknown keys {sorted(unknown)}")
        # Empty strings mean "not given" (tensorbench.findings.Finding writes them so).
        entry = {k: (None if v == "" else v) for k, v in entry.items()}
        claim, text = entry.get("claim"), entry.get("text")
        has_claim = isinstance(claim, str) and claim.strip()
        has_text = isinstance(text, str) and text.strip()
        if not has_claim and not has_text:
            raise ValueError(
                f"{source}: finding {index} needs a non-empty 'claim' or 'text' string"
            )
        for key in ("value", "published", "verdict"):
            value = entry.get(key)
            if value is not None and not isinstance(value, str | int | float):
                raise TypeError(f"{source}: finding {index} '{key}' must be text or a number")
        fields = {k: entry.get(k) for k in FINDING_KEYS}
        fields["claim"] = claim if has_claim else ""
        findings.append(Finding(**fields))
    return tuple(findings)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _escaped_with_code(text: str) -> str:
    """Escaped text with Markdown's `code` spans as <code> (findings are written in
    Markdown for the notebooks)."""
    return _CODE_SPAN.sub(r"<code>\1</code>", html.escape(text))


def _inline_html(text: str) -> str:
    """Escaped text with ``$...$`` as MathML (the TeX itself if it cannot be drawn) and
    `code` spans as <code>."""
    out, last = [], 0
    for match in _INLINE_MATH.finditer(text):
        out.append(_escaped_with_code(text[last : match.start()]))
        try:
            out.append(tex_to_mathml(match["tex"]))
        except MathError:
            out.append(f"<code>{html.escape(match['tex'])}</code>")
        last = match.end()
    out.append(_escaped_with_code(text[last:]))
    return "".join(out)


def notebook_title(notebook: Mapping, fallback: str) -> str:
    """The notebook's ``metadata.title``, else its first Markdown heading, else
    ``fallback``."""
    title = notebook.get("metadata", {}).get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        for line in source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip() or fallback
    return fallback


def first_figure(notebook: Mapping) -> tuple[bytes, str] | None:
    """The first PNG output of the notebook and its alt text ('' if it has none)."""
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data", {})
            if "image/png" in data:
                png = data["image/png"]
                png = "".join(png) if isinstance(png, list) else png
                alt = (output.get("metadata", {}).get("image/png", {}) or {}).get("alt") or ""
                return base64.b64decode(png), alt
    return None


def thumbnail_uri(png: bytes, width: int = THUMBNAIL_WIDTH) -> str:
    """A ``data:`` URI of ``png`` shrunk by the whole factor that brings it nearest to
    ``width`` pixels wide (never enlarged): each pixel the mean of a block of pixels."""
    import numpy as np
    from matplotlib import image

    picture = image.imread(io.BytesIO(png), format="png")
    if picture.ndim == 2:  # grey levels: one channel
        picture = np.repeat(picture[..., None], 3, axis=2)
    factor = max(1, round(picture.shape[1] / width))
    rows, cols = (picture.shape[0] // factor) * factor, (picture.shape[1] // factor) * factor
    blocks = picture[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor, -1)
    small = np.clip(blocks.mean(axis=(1, 3)), 0.0, 1.0)
    buffer = io.BytesIO()
    image.imsave(buffer, small, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _wall_seconds(reproduce_log: Mapping, stem: str) -> float | None:
    entry = reproduce_log.get("notebooks", {}).get(stem, {})
    seconds = entry.get("seconds") if isinstance(entry, Mapping) else None
    return float(seconds) if isinstance(seconds, int | float) else None


def wall_time_text(seconds: float | None) -> str:
    """'43 s', '6 min 14 s', '2 h 05 min', or 'not recorded'."""
    if seconds is None:
        return "not recorded"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def collect(
    executed_dir: Path, figures_dir: Path, data_dir: Path, findings: Mapping | None = None
) -> list[NotebookEntry]:
    """The entries of one machine/profile folder. ``findings`` (stem -> list of finding
    dicts) overrides the ``<stem>.findings.json`` files."""
    log = results.read_json(data_dir / "reproduce.json")
    entries = []
    for stem in sorted(p.stem for p in executed_dir.glob("*.ipynb")):
        notebook = json.loads((executed_dir / f"{stem}.ipynb").read_text(encoding="utf-8"))
        figure = first_figure(notebook)
        title = notebook_title(notebook, stem)
        if findings is not None and stem in findings:
            found = parse_findings(findings[stem], f"findings[{stem!r}]")
        else:
            found = read_findings(figures_dir / f"{stem}.findings.json")
        rendered = executed_dir / f"{stem}.html"
        entries.append(
            NotebookEntry(
                stem=stem,
                title=title,
                html_name=rendered.name if rendered.is_file() else None,
                seconds=_wall_seconds(log, stem),
                thumbnail=thumbnail_uri(figure[0]) if figure else None,
                thumbnail_alt=(figure[1] if figure and figure[1] else f"Main figure of {title}"),
                findings=found,
            )
        )
    return entries


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def profile_page(machine: str, profile: str, entries: Sequence[NotebookEntry]) -> str:
    """The HTML of ``executed/<machine>/<profile>/index.html``."""
    parts = [
        f"<h1>Results on {html.escape(machine)}, profile {html.escape(profile)}</h1>",
        '<p class="lead"><a href="../../index.html">All machines and profiles</a></p>',
    ]
    for entry in entries:
        title = _inline_html(entry.title)
        heading = (
            f'<a href="{html.escape(entry.html_name)}">{title}</a>'
            if entry.html_name
            else (f"{title} <small>(not rendered yet)</small>")
        )
        if entry.thumbnail:
            picture = f'<img src="{entry.thumbnail}" alt="{html.escape(entry.thumbnail_alt)}">'
            if entry.html_name:
                picture = f'<a href="{html.escape(entry.html_name)}">{picture}</a>'
        else:
            picture = '<div class="noimage">no figure</div>'
        meta = f"{html.escape(entry.stem)} · wall time {wall_time_text(entry.seconds)}"
        lines = "".join(f"<li>{f.line()}</li>" for f in entry.findings)
        findings = f"<ul>{lines}</ul>" if lines else '<p class="meta">No findings recorded.</p>'
        parts.append(
            f"<article>{picture}<div><h2>{heading}</h2>"
            f'<p class="meta">{meta}</p>{findings}</div></article>'
        )
    if not entries:
        parts.append("<p>No executed notebooks here.</p>")
    return _page(f"tensorbench: {machine}, {profile}", "\n".join(parts))


def top_page(rows: Sequence[tuple[str, str, int, float | None]], claims: bool = False) -> str:
    """The HTML of ``executed/index.html``: (machine, profile, notebooks, seconds) rows,
    and a link to the claims report card when ``claims`` (``executed/claims.html``)."""
    body = [
        "<h1>tensorbench: rendered notebooks</h1>",
        '<p class="lead">Every machine and profile with results. Each page links the '
        "rendered notebooks; everything opens offline.</p>",
    ]
    if claims:
        body.append(
            '<p><a href="claims.html">Claims report card</a>: every claim of the paper and '
            "of the TT note, checked on every machine, with every machine's results side by "
            "side.</p>"
        )
    body += [
        "<table><thead><tr><th>machine</th><th>profile</th><th>notebooks</th>"
        "<th>wall time of the run</th></tr></thead><tbody>",
    ]
    for machine, profile, count, seconds in rows:
        link = f"{html.escape(machine)}/{html.escape(profile)}/index.html"
        body.append(
            f"<tr><td>{html.escape(machine)}</td>"
            f'<td><a href="{link}">{html.escape(profile)}</a></td>'
            f"<td>{count}</td><td>{wall_time_text(seconds)}</td></tr>"
        )
    body.append("</tbody></table>")
    if not rows:
        body.append("<p>No results yet: run <code>make reproduce</code>.</p>")
    return _page("tensorbench: rendered notebooks", "\n".join(body))


def build_index(
    executed_root: Path,
    figures_root: Path,
    data_root: Path,
    findings: Mapping[tuple[str, str], Mapping] | None = None,
) -> list[Path]:
    """Write ``<executed_root>/<machine>/<profile>/index.html`` for every folder holding
    executed notebooks, and ``<executed_root>/index.html``; returns the pages written.

    ``figures_root``/``data_root`` are the ``figures``/``data/results`` folders
    (``paths.kind_root``; their ``<machine>/<profile>/`` subfolders hold the findings files
    and ``reproduce.json``). The top page gives each profile's last full run's wall time
    (``last_full_run.seconds``), else the sum of its notebooks' wall times.
    ``findings`` maps (machine, profile) to {stem: [finding, ...]} to pass findings
    directly instead of through files."""
    for name, value in (
        ("executed_root", executed_root),
        ("figures_root", figures_root),
        ("data_root", data_root),
    ):
        if not isinstance(value, str | Path):
            raise TypeError(f"{name} must be a path, got {type(value).__name__}")
    executed_root, figures_root, data_root = map(Path, (executed_root, figures_root, data_root))
    if not executed_root.is_dir():
        raise ValueError(f"executed_root is not a folder: {executed_root}")
    written, rows = [], []
    for profile_dir in sorted(p for p in executed_root.glob("*/*") if p.is_dir()):
        if not any(profile_dir.glob("*.ipynb")):
            continue
        machine, profile = profile_dir.parent.name, profile_dir.name
        entries = collect(
            profile_dir,
            figures_root / machine / profile,
            data_root / machine / profile,
            (findings or {}).get((machine, profile)),
        )
        page = profile_dir / "index.html"
        results.atomic_write_text(page, profile_page(machine, profile, entries))
        os.chmod(page, 0o644)
        written.append(page)
        full = results.read_json(data_root / machine / profile / "reproduce.json")
        full_seconds = (full.get("last_full_run") or {}).get("seconds")
        known = [e.seconds for e in entries if e.seconds is not None]
        if not isinstance(full_seconds, int | float):
            full_seconds = sum(known) if known else None
        rows.append((machine, profile, len(entries), full_seconds))
    top = executed_root / "index.html"
    results.atomic_write_text(top, top_page(rows, (executed_root / "claims.html").is_file()))
    os.chmod(top, 0o644)
    written.append(top)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m tensorbench.site [--results-root DIR]``: write the index pages of
    ``DIR/executed`` (default: the project) from its ``figures/`` and ``data/results/``."""
    import argparse

    from tensorbench import paths

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--results-root", default=None, help="folder of data/, figures/, executed/")
    args = parser.parse_args(argv)
    root = args.results_root
    kinds = (paths.kind_root(kind, root) for kind in ("executed", "figures", "data"))
    for page in build_index(*kinds):
        print(page)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
