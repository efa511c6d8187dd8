"""The PDF edition (`make pdf`) as a reader gets it: every chapter is in it, whole, with its
references resolved and every character typeset.

Checks, on book/_build/latex/mlp-book.pdf and its LaTeX log and .aux:
* every chapter of _toc.yml is in the PDF, and its first `# ` heading is in the text of the
  chapter's first page (text from poppler's pdftotext; both sides NFKC-normalised, whitespace
  collapsed, backticks and Markdown emphasis removed);
* every notebook chapter spans at least 4 pages, and the PDF has at least 4 pages per chapter;
* no `??` anywhere in the text (an unresolved reference or citation);
* no "Missing character" in the LaTeX log (a glyph the fonts do not have, left out);
* no `<IPython.core.display...>` placeholder (an output with no LaTeX-compatible form).
Chapter start pages come from the .aux labels Sphinx writes for each document and the PDF's named
destinations (`pdfinfo -dests`), so the checks do not depend on the page layout.

Skipped, with the reason, when the PDF or poppler-utils is missing, unless MLP_REQUIRE_PDF=1
(set by .ci/run after `make pdf`), which turns the skip into a failure.
"""
import json
import os
import re
import shutil
import subprocess
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LATEX = ROOT / "book" / "_build" / "latex"
PDF = LATEX / "mlp-book.pdf"
MIN_PAGES = 4


def _why_not():
    if not PDF.exists():
        return f"no PDF: {PDF.relative_to(ROOT)} (run make pdf)"
    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        return "pdftotext/pdfinfo missing (apt-get install poppler-utils)"
    return None


REASON = _why_not()
if REASON and os.environ.get("MLP_REQUIRE_PDF") == "1":
    raise RuntimeError(f"PDF checks required (MLP_REQUIRE_PDF=1) but cannot run: {REASON}")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("`", "")
    text = re.sub(r"(\*\*|__|(?<!\w)[*_]|[*_](?!\w))", "", text)   # **bold**, *italic*
    return " ".join(text.split())


def toc_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def first_heading(doc: str) -> str:
    path = next((ROOT / (doc + ext) for ext in (".ipynb", ".md") if (ROOT / (doc + ext)).exists()), None)
    assert path is not None, f"{doc}: no .ipynb or .md (book/api.md is written by make book / make pdf)"
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    m = re.search(r"^# (.+)$", text, re.M)
    assert m, f"{doc}: no '# ' heading"
    return m.group(1).strip()


@lru_cache(maxsize=None)
def pages():
    "The text of every page (pdftotext separates pages with form feeds)."
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(PDF), "-"], capture_output=True, check=True).stdout
    return out.decode("utf-8").split("\f")[:-1] or [""]


@lru_cache(maxsize=None)
def starts():
    "{docname: physical page (1-based)} of each document's start, from .aux labels and PDF destinations."
    aux = (LATEX / "mlp-book.aux").read_text(encoding="utf-8", errors="replace")
    anchors = dict(re.findall(r"\\newlabel\{(.+?)::doc\}\{\{[^}]*\}\{[^}]*\}\{.*?\}\{([^}]+)\}", aux))
    dests = {}
    out = subprocess.run(["pdfinfo", "-dests", str(PDF)], capture_output=True, check=True).stdout.decode()
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)\s+\[.*\]\s+\"(.+)\"\s*$", line)
        if m:
            dests.setdefault(m.group(2), int(m.group(1)))
    return {doc: dests[a] for doc, a in anchors.items() if a in dests}


CHAPTERS = toc_chapters()


@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_heading_on_its_first_page(doc):
    heading = norm(first_heading(doc))
    assert doc in starts(), f"{doc} is not in the PDF (no start label in mlp-book.aux)"
    page = starts()[doc]
    text = norm(pages()[page - 1])
    assert heading in text, f"{doc}: heading {heading!r} not on its first page ({page}): {text[:300]!r}"


def test_chapters_have_pages():
    order = sorted((p, d) for d, p in starts().items() if d in CHAPTERS)
    assert [d for _, d in order] == CHAPTERS, "chapters missing from the PDF or out of _toc.yml's order"
    total = len(pages())
    ends = [p for p, _ in order[1:]] + [total + 1]
    short = [f"{d}: {e - p} page(s)" for (p, d), e in zip(order, ends)
             if d.startswith("nbs/") and Path(d).name[:2] != "re" and e - p < MIN_PAGES]
    assert not short, f"notebook chapters shorter than {MIN_PAGES} pages: {short}"
    assert total >= MIN_PAGES * len(CHAPTERS), f"{total} pages for {len(CHAPTERS)} chapters"
    print(f"{total} pages, {len(CHAPTERS)} chapters; longest: "
          + ", ".join(f"{d} {e - p}" for (p, d), e in sorted(zip(order, ends), key=lambda t: t[0][0] - t[1])[:3]))


def test_no_unresolved_references():
    bad = [(i + 1, t[max(0, t.find("??") - 60):t.find("??") + 20]) for i, t in enumerate(pages()) if "??" in t]
    assert not bad, f"'??' (unresolved reference or citation) on pages: {bad[:10]}"


def test_no_missing_characters():
    log = (LATEX / "mlp-book.log").read_text(encoding="utf-8", errors="replace")
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font (.+?)!", log)))
    assert not missing, f"{len(missing)} glyph(s) not in the fonts: {missing[:20]}"
    assert "Missing character" not in log


def chapter_of(page: int) -> str:
    before = [(p, d) for d, p in starts().items() if p <= page]
    return max(before)[1] if before else "front matter"


def test_no_output_placeholders():
    """An output that only has an HTML or SVG form (IPython's HTML(...), a hand-made <table>) is
    printed as its text/plain placeholder: show tables with mlp.diagrams.markdown_table and
    figures as PNG (matplotlib inline)."""
    bad = [f"page {i + 1} ({chapter_of(i + 1)}): {m}" for i, t in enumerate(pages())
           for m in re.findall(r"<(?:IPython|matplotlib)\.[\w.]+ object[^>]*>", t)]
    assert not bad, f"{len(bad)} output(s) with no LaTeX form (HTML/SVG only) left as placeholders: {bad[:10]}"
