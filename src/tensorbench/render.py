"""Self-contained HTML renders of executed notebooks: readable offline, nothing fetched.

nbconvert's lab template loads MathJax, require.js and mermaid from a CDN, so a reader
without a network sees raw TeX. Here math is converted to MathML at render time
(``latex2mathml``, pure Python), which browsers draw natively: no script, no font
download, and it still reads when scripts are blocked or the file is mailed around.
MathJax would need its ~1,500-file distribution vendored beside every render, and
the only PyPI package carrying it (``jupyter-server-mathjax``) ships MathJax 2, whose
CHTML output fetches web fonts by relative URL. The template drops every remote script,
keeps nbconvert's CSS inlined, embeds Markdown images as ``data:`` URIs, and writes each
figure's alternative text (the PNG output's ``alt`` metadata, set by
:func:`tensorbench.plotting.show`) as ``<img alt=...>``.
"""

from __future__ import annotations

import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import jinja2
from latex2mathml.converter import convert
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

from tensorbench import results

# What nbconvert writes (with a warning) on an image that has no alternative text.
NBCONVERT_PLACEHOLDER_ALT = "No description has been provided for this image"

_IMAGE_BLOCK = """
{%- block data_IMG scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
{%- if 'MIME' in output.metadata.get('filenames', {}) %}
<img src="{{ output.metadata.filenames['MIME'] | posix_path | escape_html }}"
{%- else %}
<img src="data:MIME;base64,{{ output.data['MIME'] | escape_html }}"
{%- endif %}
{%- set alttext = (output | get_metadata('alt', 'MIME')) or (cell | get_metadata('alt')) %}
{%- if alttext %}
alt="{{ alttext | escape_html }}"
{%- endif %}
{%- set width = output | get_metadata('width', 'MIME') %}
{%- if width is not none %}
width={{ width | escape_html }}
{%- endif %}
{%- set height = output | get_metadata('height', 'MIME') %}
{%- if height is not none %}
height={{ height | escape_html }}
{%- endif %}
>
</div>
{%- endblock data_IMG %}
"""

# The lab template without its remote scripts, with alt text and MathML.
OFFLINE_TEMPLATE = (
    """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
math { font-size: 1.05em; }
math[display="block"] { display: block math; margin: 0.6em 0; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
</style>
{%- endblock extra_css -%}
{% block data_latex scoped %}
<div class="jp-RenderedLatex jp-OutputArea-output {{ extra_class }}" data-mime-type="text/latex">
{{ output.data['text/latex'] | latex_to_mathml }}
</div>
{%- endblock data_latex %}
"""
    + _IMAGE_BLOCK.replace("IMG", "png").replace("MIME", "image/png")
    + _IMAGE_BLOCK.replace("IMG", "jpg").replace("MIME", "image/jpeg")
)
TEMPLATE_FILE = "tensorbench_offline.html.j2"

_XMLNS = re.compile(r'\sxmlns="[^"]*"')
# latex2mathml keeps a macro it does not know as text, e.g. <mi>\foo</mi>.
_UNKNOWN_MACRO = re.compile(r">\\[A-Za-z]+")


class MathError(ValueError):
    """TeX in a notebook that cannot be turned into MathML."""


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """MathML for ``tex`` (no ``$`` delimiters). Raises :class:`MathError` naming the TeX
    when it does not parse or uses a macro the converter does not know."""
    if not isinstance(tex, str):
        raise TypeError(f"tex must be a str, got {type(tex).__name__}")
    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises several types of its own
        raise MathError(f"cannot convert TeX {tex!r} to MathML: {error!r}") from error
    unknown = _UNKNOWN_MACRO.search(mathml)
    if unknown:
        raise MathError(f"TeX {tex!r} uses {unknown.group(0)[1:]!r}, unknown to latex2mathml")
    # HTML needs no namespace; dropping it keeps every "http" out of the page.
    alt = html.escape(tex, quote=True)
    return _XMLNS.sub("", mathml, count=1).replace("<math", f'<math alttext="{alt}"', 1)


def latex_output_to_mathml(text: str) -> str:
    """A ``text/latex`` output (``$...$``, ``$$...$$`` or an environment) as MathML."""
    body = text.strip()
    if body.startswith("$$") and body.endswith("$$") and len(body) > 4:
        return tex_to_mathml(body[2:-2], display=True)
    if body.startswith("$") and body.endswith("$") and len(body) > 2:
        return tex_to_mathml(body[1:-1], display=False)
    return tex_to_mathml(body, display=True)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer with math written as MathML instead of TeX."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


class OfflineHTMLExporter(HTMLExporter):
    """The lab HTML export, self-contained: see the module docstring."""

    def __init__(self, **kwargs):
        kwargs.setdefault("extra_loaders", [jinja2.DictLoader({TEMPLATE_FILE: OFFLINE_TEMPLATE})])
        super().__init__(**kwargs)
        self.template_file = TEMPLATE_FILE
        self.embed_images = True
        self.register_filter("latex_to_mathml", latex_output_to_mathml)

    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    # nbconvert calls filters with the Jinja context when they are marked so.
    markdown2html = jinja2.pass_context(markdown2html)


def render_html(executed_ipynb: Path, output: Path | None = None) -> Path:
    """Render ``executed_ipynb`` as self-contained HTML (``output``, by default the same
    path with ``.html``); returns the HTML's path.

    Raises TypeError for a path that is not a ``str``/``Path``, ValueError for a file that
    is not an ``.ipynb`` or does not exist, :class:`MathError` for TeX that cannot be
    drawn (rather than leaving raw TeX for the reader)."""
    import nbformat

    if not isinstance(executed_ipynb, str | Path):
        raise TypeError(f"executed_ipynb must be a path, got {type(executed_ipynb).__name__}")
    source = Path(executed_ipynb)
    if source.suffix != ".ipynb":
        raise ValueError(f"executed_ipynb must be an .ipynb file, got {source}")
    if not source.is_file():
        raise ValueError(f"executed_ipynb does not exist: {source}")
    target = Path(output) if output is not None else source.with_suffix(".html")
    notebook = nbformat.read(source, as_version=4)
    exporter = OfflineHTMLExporter()
    resources = {"metadata": {"name": source.stem, "path": str(source.parent)}}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Atomic, like every other result file: a killed render leaves the old page intact.
    results.atomic_write_text(target, body)
    os.chmod(target, 0o644)  # a page to read, like nbconvert's own output
    return target


# --- checking a page -------------------------------------------------------------------

# Raw TeX a reader would see: $...$ with something inside, or a backslash macro.
_RAW_TEX = re.compile(r"(?<![\\$])\$[^$\s][^$]*\$|\\(?:frac|sum|mathbf|mathcal|times|cdot)\b")
_SCRIPT_URL = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""")
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")
# Elements whose text a reader does not read as prose (code, program output, math).
_NOT_PROSE = {"script", "style", "pre", "code", "math", "title"}
# Attributes through which a browser fetches something on opening the page.
_FETCHED = {("img", "src"), ("script", "src"), ("link", "href"), ("source", "src")}
_FETCHED |= {("iframe", "src"), ("embed", "src"), ("object", "data"), ("video", "src")}
_FETCHED |= {("audio", "src"), ("input", "src"), ("image", "href")}


class _PageScan(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.css: list[str] = []
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.images: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag not in _VOID:
            self.open.append(tag)
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("alt"))
        for name, value in attrs:
            if value is None:
                continue
            if name in ("src", "href", "data", "poster", "srcset") or (tag, name) in _FETCHED:
                self.references.append((tag, name, value))
            if name == "style":
                self.css.append(value)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_data(self, data):
        if "style" in self.open:
            self.css.append(data)
        elif "script" in self.open:
            self.references += [("script", "import", url) for url in _SCRIPT_URL.findall(data)]
        elif not _NOT_PROSE & set(self.open):
            self.text.append(data)


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_VOID |= {"track", "wbr"}


def offline_problems(page: Path, allow_external_links: bool = True) -> list[str]:
    """What keeps ``page`` from reading well offline, as a list of sentences (empty when
    none): raw TeX in the visible text; an image without alternative text (or with
    nbconvert's placeholder); anything the browser would fetch from the network (script,
    stylesheet, image, font, CSS ``url()``/``@import``); a relative link or source that does
    not resolve to a file. Links a reader clicks (``<a href="https://...">``) are allowed
    unless ``allow_external_links`` is False."""
    page = Path(page)
    scan = _PageScan()
    scan.feed(page.read_text(encoding="utf-8"))
    problems = []
    visible = " ".join(" ".join(scan.text).split())
    for match in _RAW_TEX.finditer(visible):
        start = max(match.start() - 30, 0)
        problems.append(f"raw TeX in the visible text: ...{visible[start : match.end() + 30]}...")
    for index, alt in enumerate(scan.images):
        if alt is None or not alt.strip():
            problems.append(f"image {index} has no alternative text")
        elif alt.strip() == NBCONVERT_PLACEHOLDER_ALT:
            problems.append(f"image {index} has only nbconvert's placeholder alt text")
    references = list(scan.references)
    for css in scan.css:
        references += [("css", "url", a or b) for a, b in _CSS_URL.findall(css)]
    for tag, attribute, value in references:
        value = value.strip()
        lowered = value.lower()
        if lowered.startswith(("data:", "#", "javascript:void")) or not value:
            continue
        remote = lowered.startswith(("http:", "https:", "//", "ftp:"))
        if remote:
            if tag == "a" and allow_external_links:
                continue
            problems.append(f"<{tag} {attribute}={value[:80]!r}> is fetched from the network")
            continue
        if lowered.startswith(("mailto:",)):
            continue
        if ":" in value.split("/")[0]:
            problems.append(f"<{tag} {attribute}={value[:80]!r}> uses an unknown scheme")
            continue
        target = (page.parent / unquote(value.split("#")[0].split("?")[0])).resolve()
        if not target.exists():
            problems.append(f"<{tag} {attribute}={value[:80]!r}> does not resolve to a file")
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m tensorbench.render NOTEBOOK.ipynb ... [--check]``: render each executed
    notebook beside itself; with ``--check``, list what keeps a page from reading well
    offline and exit 1 if anything does."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="check each page offline")
    args = parser.parse_args(argv)
    failed = False
    for notebook in args.notebooks:
        page = render_html(notebook)
        problems = offline_problems(page) if args.check else []
        print(f"{page}: {len(problems)} problem(s)" if args.check else page)
        for problem in problems:
            print(f"  {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
