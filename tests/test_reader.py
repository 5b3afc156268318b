"""What a reader sees (issue 12): offline HTML renders, alt text, reader's tables, one
style per implementation, legends off the data, index pages."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tensorbench import plotting, render, results, site, tables

MATH_MARKDOWN = r"""# Sparse $\mathcal{A} \times_k \mathbf{x}$

The product $\mathcal{A} \times_k \mathbf{x}$ sums over mode $k$:

$$y_{i j} = \sum_{l} a_{i l j} x_l$$

![a local picture](picture.png)
"""
ALT = "Mean runtime against n: Rust from Python is 212x faster than Python at n = 1,000,000."


def _png() -> bytes:
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([1, 2, 3], [3, 1, 2])
    data = plotting.png_bytes(fig)
    plt.close(fig)
    return data


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "size": [1000, 1000, 100000, 100000],
            "implementation": ["python", "rust_from_python"] * 2,
            "mean": [2.0e-4, 1.6e-6, 2.1e-2, 4.0e-5],
            "ci95_low": [1.9e-4, 1.5e-6, 2.0e-2, 3.9e-5],
            "ci95_high": [2.1e-4, 1.7e-6, 2.2e-2, 4.1e-5],
        }
    )


def _executed_notebook(folder: Path, alt: str | None = ALT) -> Path:
    """A small executed notebook: math in Markdown, a figure with alt text, a table."""
    (folder / "picture.png").write_bytes(_png())
    figure = new_output(
        "display_data",
        data={"image/png": base64.b64encode(_png()).decode("ascii"), "text/plain": "fig"},
        metadata={"image/png": {"alt": alt}} if alt is not None else {},
    )
    table = new_output(
        "display_data",
        data={"text/markdown": tables.reader_markdown(_summary()), "text/plain": "table"},
    )
    latex = new_output("display_data", data={"text/latex": r"$\alpha^2$", "text/plain": "a"})
    code = new_code_cell("plotting.show(fig, alt=...)", outputs=[figure, table, latex])
    nb = new_notebook(cells=[new_markdown_cell(MATH_MARKDOWN), code])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = folder / "example.ipynb"
    nbformat.write(nb, path)
    return path


# --- render ---------------------------------------------------------------------------


def test_render_is_self_contained_with_mathml_alt_text_and_a_table(tmp_path):
    page = render.render_html(_executed_notebook(tmp_path))
    assert page == tmp_path / "example.html"
    assert render.offline_problems(page, allow_external_links=False) == []
    text = page.read_text(encoding="utf-8")
    assert text.count("<math") >= 4  # title, inline, display, the text/latex output
    assert 'display="block"' in text
    assert f'alt="{ALT}"' in text
    assert "mean (µs)" in text and "<table" in text
    assert "<script" not in text  # no require.js, MathJax, mermaid or widgets loader
    assert 'src="picture.png"' not in text  # the Markdown image is embedded


def test_default_nbconvert_render_fails_the_same_checks(tmp_path):
    """The checks can fail: nbconvert's own render loads scripts and leaves raw TeX."""
    from nbconvert import HTMLExporter

    source = _executed_notebook(tmp_path, alt=None)
    body, _ = HTMLExporter().from_filename(str(source))
    page = tmp_path / "default.html"
    page.write_text(body, encoding="utf-8")
    problems = "\n".join(render.offline_problems(page))
    assert "raw TeX" in problems
    assert "fetched from the network" in problems
    assert "placeholder alt text" in problems


def test_missing_alt_text_is_reported_not_papered_over(tmp_path):
    page = render.render_html(_executed_notebook(tmp_path, alt=None))
    assert render.offline_problems(page) == ["image 1 has only nbconvert's placeholder alt text"]


def test_math_that_cannot_be_drawn_raises_naming_it(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell(r"Broken: $\notamacro{x}$")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(render.MathError, match="notamacro"):
        render.render_html(path)
    with pytest.raises(render.MathError, match="frac"):
        render.tex_to_mathml(r"\frac{1}{")
    with pytest.raises(TypeError, match="tex"):
        render.tex_to_mathml(3)


def test_render_refuses_bad_paths(tmp_path):
    with pytest.raises(TypeError, match="executed_ipynb"):
        render.render_html(12)
    with pytest.raises(ValueError, match=r"\.ipynb"):
        render.render_html(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="does not exist"):
        render.render_html(tmp_path / "missing.ipynb")


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("<p>raw $x^2$ here</p>", "raw TeX"),
        (r"<p>\frac{a}{b}</p>", "raw TeX"),
        ('<img src="data:image/png;base64,AA">', "no alternative text"),
        ('<img src="data:image/png;base64,AA" alt=" ">', "no alternative text"),
        ('<script src="https://cdn.example/x.js"></script>', "fetched from the network"),
        ('<link rel="stylesheet" href="//cdn.example/x.css">', "fetched from the network"),
        ("<style>@import 'https://fonts.example/f.css';</style>", "fetched from the network"),
        ("<style>body { background: url(http://x.example/a.png) }</style>", "network"),
        ("<script>import('https://cdn.example/m.mjs')</script>", "fetched from the network"),
        ('<a href="missing.html">gone</a>', "does not resolve"),
        ('<img src="missing.png" alt="a picture">', "does not resolve"),
    ],
)
def test_offline_problems_finds_each_kind_of_problem(tmp_path, snippet, expected):
    page = tmp_path / "page.html"
    page.write_text(f"<html><body>{snippet}</body></html>", encoding="utf-8")
    problems = render.offline_problems(page, allow_external_links=False)
    assert len(problems) == 1 and expected in problems[0], problems


def test_offline_problems_accepts_code_math_local_files_and_reader_links(tmp_path):
    (tmp_path / "other.html").write_text("<p>hi</p>", encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text(
        '<p>costs $5 or more</p><pre>f"${x}$"</pre><math><mi>x</mi></math>'
        '<a href="other.html#part">local</a><a href="#top">up</a>'
        '<a href="https://doi.org/10.1/x">the paper</a>',
        encoding="utf-8",
    )
    assert render.offline_problems(page) == []
    assert "network" in render.offline_problems(page, allow_external_links=False)[0]


# --- plotting ---------------------------------------------------------------------------


def test_every_implementation_name_has_one_style_from_the_palette():
    from tensorbench.experiments import dense_impls, mttkrp_impls, tt_overhead, ttv_impls

    names = {
        *dense_impls.IMPLEMENTATIONS,
        dense_impls.BANDWIDTH,
        *ttv_impls.IMPLEMENTATIONS,
        *tt_overhead.IMPLEMENTATIONS,
        *tt_overhead.PUBLISHED_SITE_UPDATE,
        *tt_overhead.PUBLISHED_CHAIN,
        *mttkrp_impls.MTTKRP_IMPLEMENTATIONS,
        *mttkrp_impls.CP_ALS_IMPLEMENTATIONS,
        "rayon_inline",
        "rayon_install",
    }
    missing = names - set(plotting.STYLES)
    assert not missing, f"no style for {sorted(missing)}"
    allowed = {*plotting.PALETTE, plotting.PUBLISHED_COLOR}
    assert {s["color"] for s in plotting.STYLES.values()} <= allowed
    assert plotting.PALETTE == tuple(__import__("seaborn").color_palette("colorblind").as_hex())
    with pytest.raises(KeyError, match="no_such_impl"):
        plotting.style("no_such_impl")


def test_runtime_figure_puts_the_legend_outside_the_axes():
    fig = plotting.runtime_figure(
        _summary(),
        x="size",
        xlabel="n",
        title="t",
        caption_text="c",
        implementations=["python", "rust_from_python"],
        labels={"python": "Python"},
    )
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1
    colors = {c.get_label(): c.lines[0].get_color() for c in ax.containers}
    assert colors == {
        "Python": plotting.color("python"),
        "rust_from_python": plotting.color("rust_from_python"),
    }
    plt.close(fig)


def test_runtime_alt_says_what_is_plotted_and_the_headline_number():
    alt = plotting.runtime_alt(
        _summary(),
        x="size",
        xlabel="n",
        implementations=["python", "rust_from_python", "numba"],
        labels={"python": "Python", "rust_from_python": "Rust from Python"},
    )
    assert alt == (
        "Log-log plot of mean runtime per call against n for Python, Rust from Python. "
        "At n = 100,000, Rust from Python is fastest (40 µs) and Python slowest (21 ms), "
        "525x apart."
    )
    with pytest.raises(ValueError, match="no mean"):
        plotting.runtime_alt(_summary(), x="size", xlabel="n", implementations=["numba"], labels={})
    with pytest.raises(ValueError, match="missing columns"):
        plotting.runtime_alt(_summary(), x="n", xlabel="n", implementations=["python"], labels={})


def _raw_rows() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    rows = []
    for size in (10, 100, 1000, 10000, 100000):
        for impl, scale in (("python", 1e-7), ("numba", 1e-9), ("rust_from_python", 2e-9)):
            for trial in range(6):
                first = trial == 0
                seconds = scale * size * (5.0 if first else rng.uniform(0.9, 1.1))
                rows.append(
                    {
                        "experiment": "dot",
                        "regime": "",
                        "variant": "",
                        "implementation": impl,
                        "n1": size,
                        "n2": 0,
                        "size": size,
                        "trial": trial,
                        "seconds": seconds,
                        "is_first_call": first,
                    }
                )
    return pd.DataFrame(rows, columns=results.RAW_COLUMNS)


def test_spread_figure_shows_every_trial_and_marks_the_first_call():
    raw = _raw_rows()
    impls = ["python", "numba", "rust_from_python"]
    fig = plotting.spread_figure(
        raw, implementations=impls, labels={}, title="spread", caption_text="c"
    )
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["n = 10", "n = 1,000", "n = 100,000"]
    for ax in axes:
        dots = [c for c in ax.collections if len(c.get_offsets())]
        white = [c for c in dots if np.allclose(c.get_facecolors()[:, :3], 1.0)]
        others = [c for c in dots if c not in white]
        first_calls = np.concatenate([c.get_offsets() for c in white])
        later = np.concatenate([c.get_offsets() for c in others])
        assert len(later) == 3 * 5 and len(first_calls) == 3  # every trial, one dot each
        for x, y in first_calls:  # each cross sits above its implementation's dots
            beside = later[np.abs(later[:, 0] - x) < 0.5]
            assert len(beside) == 5 and y > 4 * beside[:, 1].max()
        assert ax.get_yscale() == "log"
    legend = axes[-1].get_legend()
    assert "first call" in [t.get_text() for t in legend.get_texts()]
    plt.close(fig)


def test_spread_figure_prefers_sizes_every_implementation_reached():
    raw = _raw_rows()
    capped = raw[~((raw["implementation"] == "python") & (raw["size"] == 100000))]
    impls = ["python", "numba"]
    fig = plotting.spread_figure(
        capped, implementations=impls, labels={}, title="t", caption_text="c"
    )
    assert [ax.get_title() for ax in fig.axes] == ["n = 10", "n = 1,000", "n = 10,000"]
    plt.close(fig)


def test_spread_figure_refuses_bad_input():
    raw = _raw_rows()
    kw = {"implementations": ["python"], "labels": {}, "title": "t", "caption_text": "c"}
    with pytest.raises(TypeError, match="DataFrame"):
        plotting.spread_figure(raw.to_dict(), **kw)
    with pytest.raises(ValueError, match="is_first_call"):
        plotting.spread_figure(raw.drop(columns="is_first_call"), **kw)
    with pytest.raises(ValueError, match="sizes"):
        plotting.spread_figure(raw, sizes=[7], **kw)
    with pytest.raises(ValueError, match="no style"):
        plotting.spread_figure(raw, **{**kw, "implementations": ["fortran"]})
    with pytest.raises(ValueError, match="no rows"):
        plotting.spread_figure(raw, **{**kw, "implementations": ["pyttb"]})
    with pytest.raises(ValueError, match="max_sizes"):
        plotting.spread_figure(raw, max_sizes=0, **kw)


def test_show_puts_alt_text_in_the_output_metadata_and_closes_the_figure(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    plotting.show(fig, alt="  A line\n from 0 to 1. ")
    ((args, kwargs),) = shown
    data = args[0]
    assert kwargs["raw"] is True
    assert kwargs["metadata"] == {"image/png": {"alt": "A line from 0 to 1."}}
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert data["text/plain"] == "A line from 0 to 1."
    assert fig.number not in plt.get_fignums()
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt"):
        plotting.show(fig, alt=" \n")
    with pytest.raises(TypeError, match="alt"):
        plotting.show(fig, alt=None)
    with pytest.raises(TypeError, match="Figure"):
        plotting.show("figure", alt="text")
    plt.close(fig)


# --- tables -----------------------------------------------------------------------------


def test_reader_table_names_units_and_digits_follow_the_ci():
    frame = pd.DataFrame(
        {
            "size": [1000, 10_000_000],
            "mean": [2.253e-4, 0.01234],
            "ci95_low": [2.20e-4, 0.0120],
            "ci95_high": [2.30e-4, 0.0126],
            "rust_from_python_here_s": [0.000225, 1.65e-6],
            "numba_x": [1.5, 12345.0],
            "relative_error": [1e-15, 3e-16],
        }
    )
    table = tables.for_readers(frame)
    assert list(table.columns) == [
        "n",
        "mean (µs)",
        "95% CI of the mean (µs)",
        "Rust from Python, here (µs)",
        "Numba, speedup (×)",
        "relative error",
    ]
    # half-widths 5 µs and 300 µs: digits down to the units and to the hundreds
    assert table["mean (µs)"].tolist() == ["225", "12,300"]
    assert table["95% CI of the mean (µs)"].tolist() == ["220 – 230", "12,000 – 12,600"]
    assert table["Rust from Python, here (µs)"].tolist() == ["225", "1.65"]
    assert table["n"].tolist() == ["1,000", "10,000,000"]
    assert table["Numba, speedup (×)"].tolist() == ["1.50", "12,300"]
    assert table["relative error"].tolist() == ["1.00e-15", "3.00e-16"]


def test_one_unit_per_column_chosen_for_its_range():
    frame = pd.DataFrame(
        {"a_s": [2.0, 30.0], "b_s": [1.2e-3, 0.5], "c_ns": [80.0, 900.0], "d_us": [3.0, 4.0]}
    )
    table = tables.for_readers(frame, time_columns={"d_us": None}, names={"d_us": "count"})
    assert list(table.columns) == ["a (s)", "b (ms)", "c (ns)", "count"]
    assert table["b (ms)"].tolist() == ["1.20", "500"]
    chi = pd.DataFrame({"chi": [8, 16], "rust": [0.85, 12.5]})
    assert tables.for_readers(chi, time_columns={"rust": "us"})["Rust (ns)"].tolist() == [
        "850",
        "12,500",
    ]


def test_units_in_parentheses_bare_units_and_ratios_of_two_implementations():
    frame = pd.DataFrame(
        {
            "ns": [36.2, 3.31],
            "ci95_low_ns": [35.1, 2.3],
            "ci95_high_ns": [37.0, 3.9],
            "numpy_einsum (us)": [212.05, 1283.3],
            "published: fast mean (us, other machine)": [812.7, 187.1],
            "rust_vs_pyttb_x": [161.6, 170.2],
        }
    )
    table = tables.for_readers(frame)
    assert list(table.columns) == [
        "time (ns)",
        "95% CI of the time (ns)",
        "NumPy einsum (µs)",
        "published: fast mean (other machine) (µs)",
        "Rust vs pyttb (×)",
    ]
    assert table["time (ns)"].tolist() == ["36.2", "3.3"]  # half-widths 0.95 and 0.8
    assert table["95% CI of the time (ns)"].tolist() == ["35.1 – 37.0", "2.3 – 3.9"]
    assert table["NumPy einsum (µs)"].tolist() == ["212", "1,280"]


def test_reader_table_refuses_what_it_cannot_write():
    with pytest.raises(TypeError, match="DataFrame"):
        tables.for_readers([1, 2])
    with pytest.raises(ValueError, match="reader's name"):
        tables.for_readers(pd.DataFrame({"size": [1], "n": [2]}))
    with pytest.raises(ValueError, match="time_columns"):
        tables.for_readers(pd.DataFrame({"x": [1.0]}), time_columns={"x": "minutes"})
    with pytest.raises(ValueError, match="not in the frame"):
        tables.for_readers(pd.DataFrame({"x": [1.0]}), time_columns={"y": "s"})
    with pytest.raises(TypeError, match="unknown options"):
        tables.reader_markdown(pd.DataFrame({"x": [1.0]}), unit="s")


def test_csv_keeps_full_precision_and_internal_names_markdown_is_for_readers(tmp_path):
    frame = _summary()
    paths = tables.write(frame, tmp_path, "t", title="Title")
    back = pd.read_csv(paths["csv"])
    assert list(back.columns) == list(frame.columns)
    assert np.array_equal(back["mean"].to_numpy(), frame["mean"].to_numpy())
    markdown = paths["md"].read_text(encoding="utf-8")
    assert markdown.startswith("Title\n\n| n | implementation | mean (µs) |")
    assert "Rust from Python" in markdown and "rust_from_python" not in markdown


# --- index pages ------------------------------------------------------------------------


def _site(tmp_path: Path) -> tuple[Path, Path, Path]:
    executed, figures, data = tmp_path / "executed", tmp_path / "figures", tmp_path / "data"
    folder = executed / "box-2cpu" / "quick"
    folder.mkdir(parents=True)
    source = _executed_notebook(folder)
    render.render_html(source)
    bare = new_notebook(cells=[new_markdown_cell("# A notebook with no figure")])
    nbformat.write(bare, folder / "bare.ipynb")
    (figures / "box-2cpu" / "quick").mkdir(parents=True)
    findings = [
        {
            "claim": "speedup at $n = 10^6$",
            "value": "212x",
            "published": "> 100x",
            "verdict": "held",
        },
        {"claim": "first call", "value": "41 µs", "published": None, "verdict": "did not hold"},
    ]
    (figures / "box-2cpu" / "quick" / "example.findings.json").write_text(json.dumps(findings))
    log = {"notebooks": {"example": {"seconds": 125.4}, "bare": {"seconds": 3.0}}}
    results.atomic_write_json(data / "box-2cpu" / "quick" / "reproduce.json", log)
    return executed, figures, data


def test_index_pages_link_every_notebook_offline(tmp_path):
    executed, figures, data = _site(tmp_path)
    pages = site.build_index(executed, figures, data)
    assert pages == [executed / "box-2cpu" / "quick" / "index.html", executed / "index.html"]
    for page in pages:
        assert render.offline_problems(page, allow_external_links=False) == [], page
    text = pages[0].read_text(encoding="utf-8")
    assert '<a href="example.html">' in text
    assert "wall time 2 min 05 s" in text and "wall time 3 s" in text
    assert "<b>212x</b> here (published: &gt; 100x)" in text
    assert '<span class="not-held">did not hold</span>' in text
    assert "(not rendered yet)" in text and "No findings recorded." in text
    assert f'alt="{ALT}"' in text  # the thumbnail keeps the figure's alt text
    assert text.index("A notebook with no figure") < text.index("Sparse")  # by file name
    top = pages[1].read_text(encoding="utf-8")
    assert '<a href="box-2cpu/quick/index.html">quick</a>' in top
    assert "2 min 08 s" in top


def _grey_png(height: int, width: int) -> bytes:
    """An 8-bit greyscale PNG, written by hand (matplotlib writes only RGB/RGBA)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes((x * 7) % 256 for x in range(width)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("kind", ["grey", "rgb", "rgba"])
def test_thumbnails_shrink_by_a_whole_factor_for_any_png(kind):
    import io

    if kind == "grey":
        png = _grey_png(400, 960)
        assert plt.imread(io.BytesIO(png)).ndim == 2
    else:
        picture = np.random.default_rng(3).uniform(size=(400, 960, len(kind)))
        buffer = io.BytesIO()
        plt.imsave(buffer, picture, format="png")
        png = buffer.getvalue()
    uri = site.thumbnail_uri(png, width=320)
    assert uri.startswith("data:image/png;base64,")
    small = plt.imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert small.shape[:2] == (133, 320)


def test_index_findings_are_checked_and_may_be_missing(tmp_path):
    executed, figures, data = _site(tmp_path)
    bad = figures / "box-2cpu" / "quick" / "example.findings.json"
    bad.write_text(json.dumps([{"claim": "x", "verdct": "held"}]))
    with pytest.raises(ValueError, match=r"example\.findings\.json.*unknown keys"):
        site.build_index(executed, figures, data)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        site.build_index(executed, figures, data)
    bad.unlink()
    page = site.build_index(executed, figures, data)[0].read_text(encoding="utf-8")
    assert page.count("No findings recorded.") == 2
    given = {("box-2cpu", "quick"): {"example": [{"claim": "passed directly"}]}}
    page = site.build_index(executed, figures, data, findings=given)[0].read_text("utf-8")
    assert "passed directly: not measured here" in page
    with pytest.raises(TypeError, match="must be a list"):
        site.parse_findings({"claim": "x"})
    with pytest.raises(ValueError, match="claim"):
        site.parse_findings([{"claim": " "}])
    with pytest.raises(TypeError, match="executed_root"):
        site.build_index(None, figures, data)
    with pytest.raises(ValueError, match="not a folder"):
        site.build_index(tmp_path / "nowhere", figures, data)


def test_command_lines_render_check_and_index(tmp_path, capsys):
    good = _executed_notebook(tmp_path)
    assert render.main([str(good), "--check"]) == 0
    assert "example.html: 0 problem(s)" in capsys.readouterr().out
    other = tmp_path / "other"
    other.mkdir()
    bad = _executed_notebook(other, alt=None)
    assert render.main([str(good), str(bad), "--check"]) == 1
    assert "placeholder alt text" in capsys.readouterr().out
    executed = tmp_path / "root" / "executed" / "m" / "p"
    executed.mkdir(parents=True)
    (executed / "example.ipynb").write_bytes(good.read_bytes())
    log = {"notebooks": {"example": {"seconds": 4.0}}, "last_full_run": {"seconds": 754.0}}
    results.atomic_write_json(
        tmp_path / "root" / "data" / "results" / "m" / "p" / "reproduce.json", log
    )
    assert site.main(["--results-root", str(tmp_path / "root")]) == 0
    assert "12 min 34 s" in (tmp_path / "root" / "executed" / "index.html").read_text("utf-8")
    assert "wall time 4 s" in (executed / "index.html").read_text("utf-8")
    assert (tmp_path / "root" / "executed" / "index.html").is_file()
    assert (executed / "index.html").is_file()


def test_index_findings_show_markdown_code_spans_as_code():
    line = site.Finding(claim="", text="`kernels_rs.dot` beats <np.dot> on $n$").line()
    assert "<code>kernels_rs.dot</code>" in line and "`" not in line
    assert "&lt;np.dot&gt;" in line and "<math" in line
