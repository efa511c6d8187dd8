"""The built site as a reader sees it: every page opened from disk in headless Chromium with
the network blocked.

Checks per page: no request leaves file:// (any attempt fails the test), no raw TeX is left
(every math element typeset by the bundled MathJax, no MathJax errors), every image loads, no
JavaScript errors, every internal link resolves to an existing file and anchor, the page has a
title and the book's navigation. A screenshot of each page goes to book/_build/screenshots/.
Also: the navigation lists the pages in _toc.yml's order, and the search box finds chapter text;
on every page, at 390 px (a phone, tapped) and 1400 px (a desktop, clicked), the chapter-list
button opens the chapter drawer (phone) or collapses and restores the sidebar (desktop), the
contents button opens the page contents (phone), and there is exactly one search entry point.

Layout, on every page at 1400 px and 390 px with every folded cell opened: at desktop width no
code block, output block, display equation or table is wider than the column, and every figure
is shown at >= 0.75 of its natural size; at phone width a display equation that is still wider
scrolls sideways (the stylesheet adds a shadow as the cue); at both, no raw markup shows in the
text (a Markdown table's `|---|` rule, `**`, `{cite}`), and every table cell has padding.
Full-page screenshots of every page at both widths, light and dark theme, go to
book/_build/screenshots/ (d_ desktop, m_ phone, dark_d_/dark_m_ dark theme; JPEG).

The sidebar's link to the PDF edition (`make pdf` copies it into the site) is checked when the
PDF is there; a site built without it passes with that one link dangling.

Skipped (with the reason) when the site is not built or Chromium/Playwright is missing, unless
MLP_REQUIRE_BROWSER=1 (set by .ci/run after `make book`), which turns the skip into a failure.
Uses Debian's chromium (MLP_CHROMIUM to override); never `playwright install`.
"""
import html.parser
import os
import re
import shutil
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "book" / "_build" / "html"
SITE_PDF = SITE / "mlp-book.pdf"   # copied by make pdf; linked from the sidebar (book/_templates/pdf-link.html)
SHOTS = ROOT / "book" / "_build" / "screenshots"
CHROMIUM = os.environ.get("MLP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _why_not():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[browser]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if not (SITE / "index.html").exists():
        return f"site not built: no {SITE.relative_to(ROOT)}/index.html (run make book)"
    return None


REASON = _why_not()
if REASON and os.environ.get("MLP_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"browser test required (MLP_REQUIRE_BROWSER=1) but cannot run: {REASON}")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def _is_redirect(path: Path) -> bool:
    head = path.read_text(encoding="utf-8", errors="replace")[:500]
    return 'http-equiv="Refresh"' in head or "http-equiv='refresh'" in head.lower()


PAGES = [] if REASON else sorted(
    p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
    if not p.relative_to(SITE).as_posix().startswith(("_static/", "_sources/", "_images/")))


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("id", "name") and v:
                self.ids.add(v)


@lru_cache(maxsize=None)
def ids_in(path: Path) -> frozenset:
    p = _Ids()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(p.ids)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Visit:
    """One page opened offline: what it tried to fetch and what it logged."""

    def __init__(self, browser, rel, query="", width=1280, height=1000, touch=False):
        self.blocked, self.errors = [], []
        self.context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch,
                                           service_workers="block")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.goto((SITE / rel).as_uri() + query, wait_until="load")
        # Wait for MathJax (bundled, loaded async) to finish typesetting, when the page has it.
        self.page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)", timeout=15000)
        self.page.evaluate("() => window.MathJax && MathJax.startup.promise")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def close(self):
        self.context.close()


# Raw TeX left in the visible text (outside code and typeset math).
_RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac|\\sum|\$[^$\n]*[\\^_{}][^$\n]*\$")
_TEXT_JS = """() => {
  const root = document.querySelector('article') || document.body;
  const clone = root.cloneNode(true);
  clone.querySelectorAll('pre, code, mjx-container, script, style, .highlight, .output, .cell_output, textarea')
       .forEach(e => e.remove());
  return clone.innerText;
}"""


@pytest.mark.parametrize("rel", PAGES)
def test_page(browser, rel):
    path = SITE / rel
    if _is_redirect(path):  # Jupyter Book's top-level index.html only redirects to the root page
        target = re.search(r'url=([^"\']+)', path.read_text(encoding="utf-8")).group(1)
        assert (path.parent / target).exists(), f"{rel} redirects to missing {target}"
        return
    v = Visit(browser, rel)
    try:
        page, problems = v.page, []

        problems += [f"network request attempted: {u}" for u in v.blocked]
        problems += v.errors

        title = page.title().strip()
        if not title or "<no title>" in title:
            problems.append(f"page title is {title!r}")
        nav_links = page.locator("nav.bd-docs-nav a").count()
        if nav_links < 3:
            problems.append(f"book navigation missing: {nav_links} links in nav.bd-docs-nav")

        math = page.evaluate("""() => {
          const els = [...document.querySelectorAll('span.math, div.math')];
          return {n: els.length,
                  untypeset: els.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
                  errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.getAttribute('data-mjx-error') || e.textContent)}
        }""")
        problems += [f"math not typeset: {t!r}" for t in math["untypeset"]]
        problems += [f"MathJax error: {e!r}" for e in math["errors"]]
        for m in _RAW_TEX.finditer(page.evaluate(_TEXT_JS)):
            problems.append(f"raw TeX in the text: ...{m.group(0)[:80]!r}...")

        # nbdev's cell directives are for nbdev, not for the reader.
        directives = page.evaluate("() => [...document.querySelectorAll('div.cell_input pre')]"
                                   ".flatMap(p => p.innerText.split('\\n')).filter(l => /^\\s*#\\s*\\|/.test(l))")
        problems += [f"nbdev directive shown: {d!r}" for d in directives[:5]]

        imgs = page.evaluate("""() => [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}))""")
        problems += [f"image does not load: {i['src']}" for i in imgs if not i["ok"]]

        here_ids = set(page.evaluate("() => [...document.querySelectorAll('[id],[name]')].map(e => e.id || e.getAttribute('name'))"))
        for href in set(page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")):
            u = urlsplit(href)
            if u.scheme != "file":
                continue
            target = Path(unquote(u.path))
            if target.is_dir():
                target = target / "index.html"
            if target.resolve() == SITE_PDF.resolve() and not SITE_PDF.exists():
                continue  # the PDF edition is not built (make pdf): its link is checked when it is
            if not target.exists():
                problems.append(f"broken link: {href}")
                continue
            frag = unquote(u.fragment)
            if frag and target.suffix == ".html":
                ids = here_ids if target.resolve() == path.resolve() else ids_in(target.resolve())
                if frag not in ids:
                    problems.append(f"missing anchor: {href}")
        assert not problems, f"{rel}: {len(problems)} problem(s):\n  " + "\n  ".join(problems[:40])
    finally:
        v.close()


@pytest.mark.parametrize("rel", ["nbs/index.html", "nbs/05_backpropagation.html", "book/api.html"])
def test_pdf_link(browser, rel):
    "With the PDF in the site, the left sidebar links to it from every page, and the link works."
    if not SITE_PDF.exists():
        pytest.skip(f"no PDF in the site ({SITE_PDF.relative_to(ROOT)}: run make pdf after make book)")
    if rel not in PAGES:
        pytest.skip(f"{rel} not built")
    v = Visit(browser, rel, width=1400, height=900)
    try:
        link = v.page.locator("#pst-primary-sidebar nav.mlp-pdf-link a")
        assert link.count() == 1, f"{rel}: {link.count()} PDF links in the left sidebar"
        assert link.first.is_visible(), f"{rel}: the PDF link is not visible at 1400 px"
        href = link.first.evaluate("a => a.href")
        target = Path(unquote(urlsplit(href).path)).resolve()
        assert target == SITE_PDF.resolve(), f"{rel}: the PDF link points to {href}"
        assert target.read_bytes()[:5] == b"%PDF-", f"{target} is not a PDF"
        assert not v.blocked and not v.errors, v.blocked + v.errors
        print(f"{rel}: sidebar links {link.first.inner_text()!r} -> {SITE_PDF.name} ({SITE_PDF.stat().st_size // 2**20} MB)")
    finally:
        v.close()


def test_figures_are_in_the_site(browser):
    "The chapters' matplotlib figures made it into the site (a kernel with MPLBACKEND=Agg drops them all)."
    pages = [p for p in PAGES if p.startswith("nbs/")]
    with_figs = [p for p in pages if re.search(r'<img[^>]+src="[^"]*_images/', (SITE / p).read_text(encoding="utf-8"))]
    n_imgs = len(list((SITE / "_images").glob("*"))) if (SITE / "_images").exists() else 0
    assert with_figs and n_imgs, f"no figure in any of {len(pages)} chapter pages (plt.show() output missing)"
    print(f"{n_imgs} images in _images/, figures on {len(with_figs)} of {len(pages)} chapter pages")


def test_one_mathjax_copy():
    "MathJax is bundled exactly once (sphinx-mathjax-offline) and every page uses that copy."
    cores = [p for p in SITE.rglob("core.js") if "mathjax" in p.as_posix().lower()]
    assert len(cores) == 1, f"expected one bundled MathJax, found {[str(p.relative_to(SITE)) for p in cores]}"
    srcs = {m for p in PAGES for m in re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', (SITE / p).read_text(encoding="utf-8"))}
    assert srcs and all("_static/mathjax/" in s and "://" not in s for s in srcs), srcs
    size = sum(f.stat().st_size for f in SITE.rglob("*") if f.is_file()) / 2**20
    print(f"one MathJax copy at {cores[0].parent.relative_to(SITE)}; site {size:.0f} MB")


def _toc_pages():
    import yaml
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part["chapters"]]
    return pages


def test_navigation_follows_toc(browser):
    "The sidebar of the landing page lists every page of _toc.yml, in its order, under its parts."
    import yaml  # noqa: F401  (part of jupyter-book's dependencies)
    v = Visit(browser, "nbs/index.html")
    try:
        hrefs = v.page.evaluate("() => [...document.querySelectorAll('nav.bd-docs-nav a.reference')].map(a => a.href)")
        captions = v.page.evaluate("() => [...document.querySelectorAll('nav.bd-docs-nav p.caption')].map(p => p.innerText.trim())")
        seen = [Path(unquote(urlsplit(h).path)).resolve().relative_to(SITE.resolve()).with_suffix("").as_posix() for h in hrefs]
        expected = [p for p in _toc_pages() if p != "nbs/index"]
        assert [p for p in seen if p in expected] == expected, f"nav order {seen} != toc order {expected}"
        import yaml as _y
        toc = _y.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
        want = [p["caption"] for p in toc["parts"]]
        assert [c for c in captions] == want, f"nav parts {captions} != toc captions {want}"
        print(f"navigation: {len(expected)} pages in {len(want)} parts, in _toc.yml order")
    finally:
        v.close()


def test_search_finds_chapter_content(browser):
    "The search box (Sphinx's offline index) finds words that only occur in chapter text."
    v = Visit(browser, "search.html", "?q=backpropagation")
    try:
        v.page.wait_for_function("() => document.querySelectorAll('#search-results li').length > 0 || "
                                 "(document.querySelector('#search-results p') || {}).innerText?.includes('did not match')",
                                 timeout=20000)
        hits = v.page.evaluate("() => [...document.querySelectorAll('#search-results li a')].map(a => a.getAttribute('href'))")
        assert any(h and h.startswith("nbs/") and "index" not in h for h in hits), f"no chapter found for 'backpropagation': {hits}"
        # From file:// the search page cannot fetch result pages for their text snippets (CORS
        # blocks file-to-file fetch; on a web server it works): those errors are expected.
        errors = [e for e in v.errors if not re.search(r"fetch at 'file://|Failed to fetch|ERR_FAILED", e)]
        assert not v.blocked and not errors, v.blocked + errors
        print(f"search 'backpropagation': {len(hits)} hits, e.g. {hits[:3]}")
    finally:
        v.close()


# --- Navigation at phone and desktop width --------------------------------------------------
# pydata-sphinx-theme binds its drawer handlers to the first `.primary-toggle` / `.secondary-toggle`
# in the page (pydata-sphinx-theme#2451). With its top navbar filled (0.17 puts a search pill there
# unless `navbar_persistent` is set) those are hidden duplicates, and the visible buttons in the
# article header do nothing. book/_config.yml sets `navbar_persistent: []`; these checks keep it so.
# Every page (but Jupyter Book's redirect at the top), since a page's own markup can break them.
NAV_PAGES = [p for p in PAGES if not _is_redirect(SITE / p)]

_BOX_JS = """sel => { const e = document.querySelector(sel); if (!e) return null;
  const b = e.getBoundingClientRect(), cs = getComputedStyle(e);
  return {x: b.x, y: b.y, w: b.width, h: b.height, right: b.right, shown: cs.visibility !== 'hidden' && cs.display !== 'none'}; }"""
_OPEN_JS = "sel => !!(document.querySelector(sel) || {}).open"
# Search entry points a reader can see in the page's chrome: the top navbar, the sidebar and the
# article header (not the closed search dialog, nor search.html's own form in the text).
_SEARCH_JS = """() => [...document.querySelectorAll('.search-button__button, form.bd-search')]
  .filter(e => e.closest('#pst-header, #pst-primary-sidebar, .bd-header-article') && e.checkVisibility()
               && e.getBoundingClientRect().width > 0)
  .map(e => e.className)"""


def _visible_one(page, selector, rel):
    "The one visible element matching selector (the theme also has hidden copies)."
    loc = page.locator(f"{selector} >> visible=true")
    assert loc.count() == 1, f"{rel}: {loc.count()} visible {selector!r}, expected exactly 1"
    return loc.first


def _on_screen(box, vw, vh):
    return box and box["shown"] and box["w"] > 50 and box["h"] > 50 and box["x"] >= -1 and box["right"] <= vw + 1 \
        and box["y"] >= -1 and box["y"] < vh


def _header_checks(page, rel):
    problems = []
    stray = page.evaluate("() => [...document.querySelectorAll('#pst-header *')].filter(e => e.checkVisibility() "
                          "&& e.getBoundingClientRect().width * e.getBoundingClientRect().height > 0).map(e => e.className)")
    if stray:
        problems.append(f"top navbar #pst-header shows {stray[:5]} (stray bar above the layout)")
    search = page.evaluate(_SEARCH_JS)
    if len(search) != 1:
        problems.append(f"{len(search)} visible search entry points, expected exactly 1: {search}")
    return problems


@pytest.mark.parametrize("rel", NAV_PAGES)
def test_navigation_phone(browser, rel):
    "390 px, touch: tapping the chapter-list button opens the chapter drawer, the contents button the page contents."
    vw, vh = 390, 844
    v = Visit(browser, rel, width=vw, height=vh, touch=True)
    try:
        page, problems = v.page, _header_checks(v.page, rel)
        dialog = "#pst-primary-sidebar-modal"
        _visible_one(page, ".primary-toggle", rel).tap()
        page.wait_for_timeout(200)
        box = page.evaluate(_BOX_JS, dialog)
        link = page.evaluate(_BOX_JS, f"{dialog} nav.bd-docs-nav a.reference")
        if not page.evaluate(_OPEN_JS, dialog) or not _on_screen(box, vw, vh):
            problems.append(f"chapter drawer did not open on tap: open={page.evaluate(_OPEN_JS, dialog)}, box={box}")
        elif not (link and link["shown"] and 0 <= link["x"] < vw and link["w"] > 0):
            problems.append(f"chapter drawer open but shows no chapter link: {link}")
        else:  # a tap on the dimmed page beside the drawer closes it, and the sidebar is back in place
            page.touchscreen.tap(vw - 10, vh // 2)
            page.wait_for_timeout(200)
            if page.evaluate(_OPEN_JS, dialog) or page.locator("#pst-primary-sidebar nav.bd-docs-nav").count() != 1:
                problems.append("chapter drawer did not close on a tap beside it")

        if page.locator("#pst-secondary-sidebar").count():  # pages with sections have page contents
            dialog = "#pst-secondary-sidebar-modal"
            _visible_one(page, ".secondary-toggle", rel).tap()
            page.wait_for_timeout(200)
            box = page.evaluate(_BOX_JS, dialog)
            link = page.evaluate(_BOX_JS, f"{dialog} nav a.nav-link")
            if not page.evaluate(_OPEN_JS, dialog) or not _on_screen(box, vw, vh):
                problems.append(f"page contents did not open on tap: open={page.evaluate(_OPEN_JS, dialog)}, box={box}")
            elif not (link and link["shown"] and 0 <= link["x"] < vw and link["w"] > 0):
                problems.append(f"page contents open but show no section link: {link}")
            else:
                page.touchscreen.tap(10, vh // 2)
                page.wait_for_timeout(200)
                if page.evaluate(_OPEN_JS, dialog):
                    problems.append("page contents did not close on a tap beside them")
        elif rel.startswith("nbs/") and rel not in ("nbs/references.html",):
            problems.append("chapter page without page contents (#pst-secondary-sidebar)")
        problems += v.errors
        assert not problems, f"{rel} at {vw} px:\n  " + "\n  ".join(problems)
    finally:
        v.close()


@pytest.mark.parametrize("rel", NAV_PAGES)
def test_navigation_desktop(browser, rel):
    "1400 px: the chapter-list button collapses the sidebar and brings it back; the contents stay beside the text."
    vw, vh = 1400, 900
    v = Visit(browser, rel, width=vw, height=vh)
    try:
        page, problems = v.page, _header_checks(v.page, rel)
        sidebar = "#pst-primary-sidebar"
        before = page.evaluate(_BOX_JS, sidebar)
        article0 = page.evaluate(_BOX_JS, ".bd-article-container")
        if not _on_screen(before, vw, vh):
            problems.append(f"sidebar not shown at {vw} px: {before}")
        toggle = _visible_one(page, ".primary-toggle", rel)
        toggle.click()
        page.wait_for_timeout(400)  # the theme animates the collapse
        after = page.evaluate(_BOX_JS, sidebar)
        article1 = page.evaluate(_BOX_JS, ".bd-article-container")
        if page.evaluate(_OPEN_JS, "#pst-primary-sidebar-modal"):
            problems.append("the chapter-list button opened the phone drawer on desktop instead of collapsing the sidebar")
        if after and after["shown"] and after["w"] > 0 and after["right"] > 1:
            problems.append(f"sidebar did not collapse: {before} -> {after}")
        elif article1["w"] <= article0["w"]:
            problems.append(f"text column did not widen when the sidebar collapsed: {article0['w']} -> {article1['w']}")
        _visible_one(page, ".primary-toggle", rel).click()
        page.wait_for_timeout(400)
        again = page.evaluate(_BOX_JS, sidebar)
        if not _on_screen(again, vw, vh):
            problems.append(f"sidebar did not come back on the second click: {again}")
        if page.locator("#pst-secondary-sidebar").count():
            toc = page.evaluate(_BOX_JS, "#pst-secondary-sidebar")
            if not _on_screen(toc, vw, vh):
                problems.append(f"page contents not shown beside the text at {vw} px: {toc}")
        problems += v.errors
        assert not problems, f"{rel} at {vw} px:\n  " + "\n  ".join(problems)
    finally:
        v.close()


# --- Layout: what fits, what scrolls, what shows as raw markup --------------------------------
_OPEN_ALL_JS = "() => document.querySelectorAll('details').forEach(d => d.open = true)"
_LAYOUT_JS = """() => {
  const shown = e => e.checkVisibility() && e.getBoundingClientRect().width > 0;
  const over = e => e.scrollWidth - e.clientWidth > 1;
  const text = e => (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 70);
  const col = document.querySelector('article.bd-article') || document.querySelector('article');
  const colW = col ? col.getBoundingClientRect().width : window.innerWidth;
  const pick = sel => [...document.querySelectorAll(sel)].filter(shown);
  const wider = e => over(e) || e.getBoundingClientRect().width > colW + 1;
  const code = pick('div.cell_input div.highlight pre, article div.highlight pre')
      .filter(e => !e.closest('div.cell_output')).filter(wider).map(text);
  const output = pick('div.cell_output pre').filter(wider).map(text);
  const eqs = pick('mjx-container[display="true"]');
  const eqWide = eqs.filter(e => over(e) || e.getBoundingClientRect().width > colW + 1);
  const eqNoCue = eqWide.filter(e => !['auto', 'scroll'].includes(getComputedStyle(e).overflowX));
  const tables = pick('article table');
  const tableWide = tables.filter(t => t.getBoundingClientRect().width > colW + 1
      && !(t.parentElement && ['auto', 'scroll'].includes(getComputedStyle(t.parentElement).overflowX)))
      .map(text);
  const unpadded = tables.filter(t => [...t.querySelectorAll('td, th')].some(c => {
      const cs = getComputedStyle(c);
      return parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) < 4; })).map(text);
  const figs = pick('article img').filter(i => i.naturalWidth > 0)
      .map(i => ({src: i.getAttribute('src'), scale: i.getBoundingClientRect().width / i.naturalWidth}));
  const clone = (col || document.body).cloneNode(true);
  clone.querySelectorAll('pre, code, mjx-container, script, style, .highlight, textarea').forEach(e => e.remove());
  return {colW, code, output, eqWide: eqWide.map(e => e.getAttribute('aria-label') || text(e)),
          eqNoCue: eqNoCue.length, tableWide, unpadded, figs, prose: clone.innerText};
}"""
# Markdown left unrendered: a table's rule row (the site's typography turns `---` into dashes),
# a pair of bold markers (a lone `**` is Python's power, as in `tanh(z)**2`), a citation role.
_RAW_MARKUP = re.compile(r"\|\s*:?(?:-{3,}|\u2014+|\u2013+):?\s*\||\*\*[A-Za-z][^*\n]{0,80}\*\*|\{cite(?::[a-z]+)?\}")


def _shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True, type="jpeg", quality=70)


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("rel", NAV_PAGES)
def test_layout(browser, rel, width):
    phone = width < 900
    v = Visit(browser, rel, width=width, height=844 if phone else 1000, touch=phone)
    try:
        page, problems = v.page, []
        stem = rel.replace("/", "__").removesuffix(".html")
        page.evaluate(_OPEN_ALL_JS)
        page.wait_for_timeout(100)
        m = page.evaluate(_LAYOUT_JS)
        if not phone:
            problems += [f"code wider than the column: {t!r}" for t in m["code"]]
            problems += [f"output wider than the column: {t!r}" for t in m["output"]]
            problems += [f"display equation wider than the column: {t!r}" for t in m["eqWide"]]
            problems += [f"table wider than the column: {t!r}" for t in m["tableWide"]]
            problems += [f"figure shown at {f['scale']:.2f} of its natural size (< 0.75): {f['src']}"
                         for f in m["figs"] if f["scale"] < 0.75]
        elif m["eqNoCue"]:
            problems.append(f"{m['eqNoCue']} display equation(s) wider than the screen do not scroll")
        problems += [f"table cells without padding: {t!r}" for t in m["unpadded"]]
        for hit in _RAW_MARKUP.finditer(m["prose"]):
            start = max(0, hit.start() - 30)
            problems.append(f"raw markup in the text: ...{m['prose'][start:hit.end() + 30]!r}...")
        _shoot(page, f"{'m' if phone else 'd'}_{stem}.jpg")
        page.evaluate("() => { document.documentElement.dataset.theme = 'dark';"
                      " document.documentElement.dataset.mode = 'dark'; }")
        page.wait_for_timeout(100)
        _shoot(page, f"dark_{'m' if phone else 'd'}_{stem}.jpg")
        problems += v.errors
        assert not problems, (f"{rel} at {width} px (column {m['colW']:.0f} px): {len(problems)} "
                              f"problem(s):\n  " + "\n  ".join(problems[:40]))
    finally:
        v.close()
