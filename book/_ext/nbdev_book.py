"""Sphinx extension: make nbdev notebooks read well in Jupyter Book.

Jupyter Book knows nothing of nbdev's `#| ...` cell directives: it would show them and run
`#| eval: false` cells. This extension rewrites every notebook as Sphinx reads it (the
`source-read` event, before MyST-NB parses and executes it):

| directive in the cell | what the reader sees |
| --- | --- |
| `#| default_exp x` alone | cell removed |
| `#| export`, `#| exports`, `#| exporti` (optionally `#| export <module>`) | directive line removed; each exported top-level `def`/`class` gets an anchor `api-<module>-<name>` |
| `#| hide`, `#| include: false` | cell runs, not shown (`remove-cell`) |
| `#| eval: false` | shown, not executed (`skip-execution`) |
| `#| code-fold: true` / `show` | input collapsed behind a toggle (`hide-input`) |
| `#| solution` | an exercise's solution: input and output folded together (`hide-cell`) |
| `#| echo: false` | input removed (`remove-input`) |
| `#| output: false` | output removed (`remove-output`) |
| a test flag from settings.ini `tst_flags` (`#| slow`, `#| torch`) | executed only if the flag is enabled, else shown and not executed |

A flag is enabled when it is listed in the environment variable `MLP_FLAGS` (space separated);
`make book` and `make test` compute the same value (see the Makefile), so the book executes
exactly the cells that the tests execute.

In the PDF (the LaTeX builder only; the site keeps its toggles), folded cells are unfolded by
`FoldedCellsForLatex`: a cell folded with `hide-input` (`#| code-fold`: the checks and the code
that draws a figure) shows its output only; an exercise's solution (`#| solution`, or any folded
cell in an "Exercises" section) is printed whole, code and output, after a label "Solution".
This is done on the document tree, after execution: the executed-notebook cache that `make pdf`
shares with `make book` restores each cell's tags as the site build saw them.

The book's `release` (the PDF's title page) is settings.ini's `version`.

The same parsing is used by `tools/gen_api_index.py`, so the API index only links anchors
that exist. Inline code such as `` `mlp.activations.relu` `` (or `` `relu` `` when only one
module exports that name) anywhere in the book becomes a link to the cell that defines it.
"""
from __future__ import annotations

import ast
import configparser
import json
import os
import re
from pathlib import Path

_DIRECTIVE = re.compile(r"^\s*#\s*\|\s*(.*?)\s*$")
_EXPORT_KEYS = {"export", "exports", "exporti"}


def parse_directives(source: str) -> tuple[dict[str, str], str]:
    """Split a code cell into its leading nbdev directives and the code the reader should see.

    Returns ({key: value}, code). `#| eval: false` -> {'eval': 'false'}, `#| default_exp m` ->
    {'default_exp': 'm'}, `#| export` -> {'export': ''}. Only the leading block counts (blank
    lines may sit among the directives), as in nbdev."""
    lines, directives, i = source.splitlines(), {}, 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m:
            body = m.group(1)
            kv = re.match(r"^([\w-]+)\s*:\s*(.*)$", body)  # Quarto style `key: value`
            key, value = kv.groups() if kv else (body.partition(" ")[0], body.partition(" ")[2])
            if key:
                directives[key] = value.strip()
        elif lines[i].strip():
            break
        i += 1
    return directives, "\n".join(lines[i:]).strip("\n")


def test_flags(root: Path) -> set[str]:
    "The test flags declared in settings.ini (`tst_flags = slow torch`)."
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(root / "settings.ini", encoding="utf-8")
    raw = cfg["DEFAULT"].get("tst_flags", "") if "DEFAULT" in cfg else ""
    return {f for f in re.split(r"[|\s]+", raw) if f}


def enabled_flags() -> set[str]:
    return set(os.environ.get("MLP_FLAGS", "").split())


def exported_names(code: str) -> list[str]:
    "Top-level functions and classes defined in an exported cell (what nbdev puts in `__all__`)."
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names = []
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(n.name)
        elif isinstance(n, (ast.Assign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return [n for n in dict.fromkeys(names) if not n.startswith("_")]


def anchor(module: str, name: str) -> str:
    "The HTML id of the anchor for `mlp.<module>.<name>` (what Sphinx makes of the label)."
    return re.sub(r"[^a-z0-9]+", "-", f"api-{module}-{name}".lower()).strip("-")


def transform_notebook(nb: dict, flags: set[str], enabled: set[str]) -> tuple[dict, dict[str, str]]:
    """Rewrite a notebook (nbformat JSON as a dict) for the book, in place.

    Returns (nb, {fully qualified exported name: anchor id})."""
    cells, exports, module = [], {}, None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            cells.append(cell)
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        d, code = parse_directives(src)
        if not d:
            cells.append(cell)
            continue
        if "default_exp" in d:
            module = d["default_exp"].split()[0]
        tags = set(cell.setdefault("metadata", {}).get("tags", []))
        if "hide" in d or d.get("include", "").lower() == "false":
            tags.add("remove-cell")
        if d.get("eval", "").lower() == "false":
            tags.add("skip-execution")
        if d.get("code-fold", "").lower() in {"true", "show"}:
            tags.add("hide-input")
        if "solution" in d:   # an exercise's answer: its output is folded with its code
            tags.add("hide-cell")
        if d.get("echo", "").lower() == "false":
            tags.add("remove-input")
        if d.get("output", "").lower() == "false":
            tags.add("remove-output")
        if (flags & d.keys()) - enabled:
            tags.add("skip-execution")
        if not code.strip():
            continue  # a cell of directives only (`#| default_exp x`) has nothing to show or run
        # `#| export layers` exports to mlp.layers whatever the chapter's default_exp is
        target = next((d[k].split()[0] for k in sorted(_EXPORT_KEYS & d.keys()) if d[k].split()), module)
        if target and _EXPORT_KEYS & d.keys() and "remove-cell" not in tags:
            # A name defined again later in the chapter keeps its first anchor (labels are unique).
            names = [n for n in exported_names(code) if f"mlp.{target}.{n}" not in exports]
            for name in names:
                exports[f"mlp.{target}.{name}"] = anchor(target, name)
            if names:
                cells.append({"cell_type": "markdown", "metadata": {}, "id": f"api-{cell.get('id', len(cells))}",
                              "source": "\n".join(f"({anchor(target, n)})=" for n in names) + "\n"})
        cell["source"] = code
        if tags:
            cell["metadata"]["tags"] = sorted(tags)
        cells.append(cell)
    nb["cells"] = cells
    return nb, exports


def _source_read(app, docname, source):
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    nb = json.loads(source[0])
    root = Path(app.srcdir)
    _, exports = transform_notebook(nb, test_flags(root), enabled_flags())
    source[0] = json.dumps(nb)
    app.env.mlp_api = getattr(app.env, "mlp_api", {})
    for fq, anc in exports.items():
        app.env.mlp_api[fq] = (docname, anc)


def _purge(app, env, docname):
    api = getattr(env, "mlp_api", {})
    for fq in [k for k, (doc, _) in api.items() if doc == docname]:
        del api[fq]


_QUALIFIED = re.compile(r"^(mlp\.[A-Za-z_]\w*\.[A-Za-z_]\w*)(\.\w+)?(\(.*\))?$")  # mlp.mod.name[.attr][(...)]
_BARE = re.compile(r"^([A-Za-z_]\w{2,})(\(.*\))?$")                                # name or name(...)
_MODULE = re.compile(r"^(mlp\.[a-z_]\w*)$")                                          # mlp.mod


_OTHER_LIBRARIES = ("numpy", "sklearn.neural_network", "sklearn.metrics", "sklearn.model_selection",
                    "sklearn.datasets", "sklearn.preprocessing")


def _taken_elsewhere(name: str) -> bool:
    """True when NumPy or scikit-learn has a public name spelled the same (`MLPClassifier`,
    `train_test_split`, `tanh`): bare inline code may mean theirs, so only `mlp.x.name` links."""
    import importlib
    for lib in _OTHER_LIBRARIES:
        try:
            if hasattr(importlib.import_module(lib), name):
                return True
        except Exception:  # a library that is not installed claims nothing
            pass
    return False


def _public(module: str) -> set:
    "The module's `__all__` (a method patched onto a class, e.g. `fit`, is not in it)."
    import importlib
    try:
        return set(getattr(importlib.import_module(module), "__all__", ()))
    except Exception:
        return set()


def _link_inline_code(app, doctree, fromdocname):
    """Inline code naming an export links to the cell that defines it: `mlp.activations.relu`,
    `mlp.activations.relu(Z)`, or the bare `relu` / `relu(Z)` when exactly one module exports that
    name and NumPy/scikit-learn have no such name; `mlp.activations` links to the chapter that
    writes the module."""
    from docutils import nodes
    api = getattr(app.env, "mlp_api", {})
    if not api or app.builder.format != "html":
        return
    bare, modules = {}, {}
    for fq, (docname, anc) in api.items():
        mod, name = fq.rsplit(".", 1)
        if name in _public(mod) and not _taken_elsewhere(name):
            bare.setdefault(name, []).append((fq, docname, anc))
        modules[mod] = docname
    for lit in list(doctree.findall(nodes.literal)):
        if isinstance(lit.parent, (nodes.reference, nodes.title)):  # not in titles: the h1 is no link
            continue
        text = lit.astext().strip()
        target = None
        if (m := _QUALIFIED.match(text)) and m.group(1) in api:
            target = (m.group(1), *api[m.group(1)])
        elif (m := _BARE.match(text)) and len(bare.get(m.group(1), ())) == 1:
            target = bare[m.group(1)][0]
        elif (m := _MODULE.match(text)) and m.group(1) in modules:
            target = (m.group(1), modules[m.group(1)], None)
        if target is None:
            continue
        fq, docname, anc = target
        uri = app.builder.get_relative_uri(fromdocname, docname) + (f"#{anc}" if anc else "")
        title = f"{fq}: written in this chapter" if anc is None else f"{fq}: defined here"
        ref = nodes.reference("", "", internal=True, refuri=uri, reftitle=title)
        lit.replace_self(ref)
        ref.append(lit)


def _dedupe_assets(app, pagename, templatename, context, doctree):
    """Drop repeated <script>/<link> entries. Jupyter Book 1.0.4 (sphinx-thebe 0.3.1,
    sphinx-togglebutton) adds some inline scripts twice; the second
    `const THEBE_JS_URL = ...` is a SyntaxError in every page's console."""
    for key in ("script_files", "css_files"):
        files, seen, out = context.get(key) or [], set(), []
        for f in files:
            # same file or inline body (filename None or ""), whatever its priority
            ident = (getattr(f, "filename", str(f)) or "", repr(sorted(getattr(f, "attributes", {}).items())))
            if ident not in seen:
                seen.add(ident)
                out.append(f)
        if files:
            context[key] = out


def _release_from_settings(app, config):
    "The version printed on the PDF's title page is the package's (settings.ini `version`)."
    if not config.release:
        cfg = configparser.ConfigParser(delimiters=["="])
        cfg.read(Path(app.srcdir) / "settings.ini", encoding="utf-8")
        config.release = config.version = cfg["DEFAULT"].get("version", "") if "DEFAULT" in cfg else ""


def _in_exercises(node) -> bool:
    "True when the node sits in a section titled `Exercises` (at any depth)."
    from docutils import nodes
    while node is not None:
        if isinstance(node, nodes.section) and node.children and isinstance(node[0], nodes.title) \
                and node[0].astext().strip().lower().startswith("exercises"):
            return True
        node = node.parent
    return False


def _make_folded_cells_transform():
    from docutils import nodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class FoldedCellsForLatex(SphinxPostTransform):
        """The PDF has no toggles: a folded check shows its output, a solution is printed whole
        under a label (see the module docstring). Runs before sphinx-jupyterbook-latex's
        MystNbPostTransform (priority 400), which would drop every `tag_hide-cell` cell (the
        solutions) and every `tag_hide-input` input: the tags are taken off here."""
        default_priority = 190
        formats = ("latex",)

        def run(self, **kwargs):
            previous_was_solution = False
            for cell in list(self.document.findall(nodes.container)):
                if cell.get("nb_element") != "cell_code":
                    continue
                mode = cell.get("hide_mode")
                if not mode:
                    previous_was_solution = False
                    continue
                solution = mode == "all" or _in_exercises(cell)
                cell["hide_mode"] = None
                cell["classes"] = [c for c in cell["classes"] if not c.startswith("tag_hide-")]
                if solution:
                    # one label for a run of solution cells (an answer in two cells)
                    prev = cell.previous_sibling() if cell.parent is not None else None
                    if not (previous_was_solution and isinstance(prev, nodes.container)
                            and prev.get("nb_element") == "cell_code"):
                        label = nodes.paragraph("", "", nodes.strong("", "Solution"),
                                                classes=["mlp-solution-label"])
                        cell.parent.insert(cell.parent.index(cell), label)
                    previous_was_solution = True
                    continue
                previous_was_solution = False
                if mode in ("input", "input+output"):
                    for child in [c for c in cell.children if c.get("nb_element") == "cell_code_source"]:
                        cell.remove(child)
                    if not cell.children:
                        cell.parent.remove(cell)

    return FoldedCellsForLatex


def setup(app):
    app.connect("config-inited", _release_from_settings)
    app.add_post_transform(_make_folded_cells_transform())
    app.connect("html-page-context", _dedupe_assets, priority=900)
    app.connect("source-read", _source_read)
    app.connect("env-purge-doc", _purge)
    app.connect("doctree-resolved", _link_inline_code)
    return {"version": "0.1", "parallel_read_safe": False, "parallel_write_safe": True}
