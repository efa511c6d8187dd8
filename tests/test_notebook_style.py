"""One chapter format, and code that fits the page: static checks on every notebook of the book.

A reader sees each chapter on the site (a column of about 92 monospace characters at any screen
width) and, later, in the PDF. These checks read the notebooks' JSON only (nothing is executed):

* every line of every code cell is at most 88 characters, so no code block needs sideways
  scrolling (printed output wraps by the site's stylesheet, `book/_static/mlp.css`);
* every chapter opens with one line `**Exports:** ...` that says what it exports (or
  `**Exports:** nothing ...`), in its first markdown cell;
* exercises have one format: a section `## Exercises` of questions, each a markdown cell starting
  `**Exercise N.**` (numbered 1, 2, ...) followed by its solution, code cells marked
  `#| solution` (folded with their output on the site) or a markdown cell in a
  `:::{admonition} Solution N` block with `:class: dropdown`;
* every chapter that draws with matplotlib starts from the book's plot style
  (`mlp.diagrams.use_book_style`), and no figure is drawn wider than the column (`figsize` width
  at most 7.8 inches at the style's 100 dpi; wider figures are stacked in rows);
* citations go through the bibliography (`{cite:t}`, `{cite:p}`), not plain "(Author, 2019)".
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "nbs"
MAX_CODE = 88
MAX_FIG_WIDTH = 7.8
CHAPTERS = sorted(p for p in NBS.glob("*.ipynb") if re.match(r"(\d\d|a\d)_", p.name))
ALL = sorted(NBS.glob("*.ipynb"))


def cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, c in enumerate(nb["cells"]):
        src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        yield i, c["cell_type"], src


def directives(src):
    out = set()
    for line in src.splitlines():
        m = re.match(r"\s*#\s*\|\s*([\w-]+)", line)
        if m:
            out.add(m.group(1))
        elif line.strip():
            break
    return out


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_code_lines_fit_the_column(path):
    long = [f"cell {i} line {n + 1} ({len(line)} chars): {line[:60]}..."
            for i, kind, src in cells(path) if kind == "code"
            for n, line in enumerate(src.splitlines()) if len(line) > MAX_CODE]
    assert not long, (f"{path.name}: {len(long)} code line(s) longer than {MAX_CODE} characters "
                      f"(wrap them):\n  " + "\n  ".join(long[:30]))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_its_exports(path):
    md = [src for _, kind, src in cells(path) if kind == "markdown"]
    first = md[0] if md else ""
    lines = [l for l in first.splitlines() if l.startswith("**Exports:**")]
    assert len(lines) == 1, (f"{path.name}: the first markdown cell should hold one line starting "
                             f"'**Exports:**' (what the chapter exports, or 'nothing'); found {len(lines)}")
    others = [l for s in md[1:] for l in s.splitlines() if l.startswith("**Exports:**")]
    assert not others, f"{path.name}: '**Exports:**' appears again later: {others[:2]}"


def _exercise_section(path):
    cs = list(cells(path))
    start = next((k for k, (_, kind, src) in enumerate(cs)
                  if kind == "markdown" and re.search(r"^## Exercises\s*$", src, re.M)), None)
    if start is None:
        return None
    end = next((k for k in range(start + 1, len(cs))
                if cs[k][1] == "markdown" and re.search(r"^## ", cs[k][2], re.M)), len(cs))
    return cs[start + 1:end]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_one_exercise_format(path):
    section = _exercise_section(path)
    if section is None:
        pytest.skip(f"{path.name} has no exercises")
    problems, number, answered = [], 0, True
    for i, kind, src in section:
        if kind == "code":
            d = directives(src)
            if "solution" not in d and "hide" not in d:
                problems.append(f"cell {i}: a code cell among the exercises without '#| solution'")
            answered = True
            continue
        m = re.match(r"\*\*Exercise (\d+)\.", src)
        if m:
            if not answered:
                problems.append(f"cell {i}: exercise {number} has no solution before exercise {m.group(1)}")
            if int(m.group(1)) != number + 1:
                problems.append(f"cell {i}: exercise {m.group(1)} follows exercise {number}")
            number, answered = int(m.group(1)), False
        elif re.match(r":::\{admonition\} Solution", src):
            if ":class: dropdown" not in src:
                problems.append(f"cell {i}: a markdown solution must be folded (':class: dropdown')")
            answered = True
        else:
            problems.append(f"cell {i}: expected '**Exercise N.** question', a '#| solution' code cell "
                            f"or a ':::{{admonition}} Solution' block; found {src[:50]!r}")
    if number == 0:
        problems.append("no '**Exercise 1.**' in the Exercises section")
    elif not answered:
        problems.append(f"exercise {number} has no solution")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_figures_use_the_book_style_and_fit(path):
    code = "\n".join(src for _, kind, src in cells(path) if kind == "code")
    if not re.search(r"\bplt\.|\bmatplotlib\b", code):
        pytest.skip(f"{path.name} draws nothing")
    assert "use_book_style()" in code, f"{path.name} plots but never calls mlp.diagrams.use_book_style()"
    wide = [m.group(0) for m in re.finditer(r"figsize=\(\s*([0-9.]+)\s*,", code)
            if float(m.group(1)) > MAX_FIG_WIDTH]
    assert not wide, (f"{path.name}: figures wider than the column ({MAX_FIG_WIDTH} in): {wide}; "
                      f"stack the panels in rows")


_PLAIN_CITATION = re.compile(r"\((?:[A-Z][A-Za-z-]+(?: et al\.| and [A-Z][A-Za-z-]+)?,? )(?:19|20)\d\d[a-z]?\)")


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_citations_through_the_bibliography(path):
    plain = [f"cell {i}: {m.group(0)}" for i, kind, src in cells(path) if kind == "markdown"
             for m in _PLAIN_CITATION.finditer(re.sub(r"`[^`]*`", "", src))]
    assert not plain, f"{path.name}: cite with {{cite:t}}/{{cite:p}} instead of: {plain[:10]}"
