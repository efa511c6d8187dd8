"""The book reads in order: no page uses a name of `mlp` before the page that defines it.

A reader goes through the pages in the order of `_toc.yml`. Every name of the `mlp` package that a
page's code uses must therefore be defined on that page or on an earlier one. The test reads every
code cell of every notebook page (exported, hidden, folded and `#| eval: false` cells alike; only
JSON and `ast`, nothing is executed) and collects the `mlp` names it uses:

* `from mlp.X import a, b`, `from mlp import a`, `from mlp import X` (a module);
* `import mlp`, `import mlp.X`, `import mlp.X as y`, `from mlp import X`, then the attribute
  chains `mlp.a`, `mlp.X.a`, `y.a` rooted at those names;
* a method that a later notebook attaches to a class (`Multilayerperceptron.save`, attached by
  appendix A2 to chapter 14's class), used as `anything.save` unless `anything` is rooted at a
  non-mlp import (`np.save`, `torch.save`). Only methods attached by exactly one notebook and
  defined nowhere else in `mlp` count, so `.fit` on a scikit-learn object is never flagged.

A name's *defining notebook* is the notebook of the cell that exports it: the symbols of
`mlp/_modidx.py` (plus the constants it omits) are located in the `# %% ../nbs/NN_x.ipynb` cell
markers of the generated module files, which also name the notebook of cells appended with
`#| export othermodule`. A module used as a whole (`import mlp.data`) belongs to the notebook that
creates it (`#| default_exp data`); the re-exports of the hand-written `mlp/__init__.py`
(`mlp.Multilayerperceptron`, `mlp.load`) belong to the notebook of the object they re-export. A
name a module serves through its `__getattr__` (a moved or deprecated name, `mlp.data.load_mnist`)
belongs to the notebook of the module that `__getattr__` imports it from, else to the notebook of
the `__getattr__` cell. Module attributes such as `mlp.__file__` count as a use of the module.

Exceptions:

(a) the root page `nbs/index.ipynb` may use anything: it shows a result of the whole book;
(b) *exported* cells (`#| export ...`) of the main-part chapters may use the names of the appendix
    modules (the `_toc.yml` part whose caption starts with "Appendix"): the package is whole
    before any chapter runs, and the appendix explains those names;
(c) reader-visible (not exported) cells of the "Case studies" chapters may use the dataset loaders,
    the names of the notebook that creates `mlp.datasets`.

If the test fails, move the use after the defining notebook, or define the name earlier.
`ALLOWED` is empty and a test keeps it so; it exists for landing a future restructuring in
steps (an entry that no longer occurs fails the test too).

Two more order rules: notebook file names sort in the order of `_toc.yml`, and the notebook that
creates a module (`#| default_exp m`) sorts before every notebook that appends to it
(`#| export m`), since nbdev 2 rewrites a module from its creator and appends the other cells in
file-name order.

Guards that keep the check honest: every symbol of `mlp/_modidx.py` is found in the index this
test builds, every code cell parses, and every `mlp` name a page uses exists (a name the index
cannot place would otherwise escape the check).
"""
import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "nbs"
PKG = ROOT / "mlp"

# (page, name used) pairs exempt from the reading order while a restructuring lands in steps;
# empty: test_allow_list_is_empty keeps it so.
ALLOWED = set()

# Roots of attribute chains that are never mlp objects, besides every name a page imports from
# another package (`import numpy as np`, `from sklearn.neural_network import MLPClassifier`).
NON_MLP_ALIASES = {"np", "plt", "mpl", "torch", "tf", "keras", "jax", "jnp", "sklearn", "pd", "scipy",
                   "os", "sys", "json", "pickle", "joblib", "Path"}
EXPORT_DIRECTIVES = {"export", "exports", "exporti"}
# cell magics whose body is still Python; other %% cells (bash, writefile, ...) are not parsed
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


# ---------------------------------------------------------------- the table of contents

@cache
def toc():
    """(pages, part_of): the notebook pages of `_toc.yml` in reading order, as file names
    ('01_activations.ipynb'), root first; and the caption of each page's part (None for the root).
    Markdown pages and `book/api` are skipped."""
    spec = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [(spec["root"], None)] + [(ch["file"], part["caption"])
                                        for part in spec.get("parts", []) for ch in part["chapters"]]
    pages, part_of = [], {}
    for file, caption in entries:
        path = ROOT / f"{file}.ipynb"
        if path.parent == NBS and path.exists():
            pages.append(path.name)
            part_of[path.name] = caption
    return pages, part_of


def position(page):
    return toc()[0].index(page)


def is_appendix(page):
    caption = toc()[1].get(page)
    return caption is not None and caption.startswith("Appendix")


def is_case_study(page):
    return toc()[1].get(page) == "Case studies"


# ---------------------------------------------------------------- reading notebook cells

def directives(source):
    """The leading `#| name args` lines of a cell, as nbdev 2 reads them: {name: [args]}."""
    found = {}
    for line in source.splitlines():
        if not line.strip() or re.match(r"\s*%%\w+", line):
            continue
        m = re.match(r"\s*#\s*\|(.*)", line)
        if not m:
            break
        words = m.group(1).strip().rstrip(":").replace(":", " ").split()
        if words:
            found[words[0]] = words[1:]
    return found


def python_source(source):
    """The cell without IPython syntax: `%` / `!` lines become `pass` (keeping the indentation);
    None for a cell magic whose body is not Python."""
    lines = source.splitlines()
    first = next((l.strip() for l in lines if l.strip() and not l.lstrip().startswith("#")), "")
    m = re.match(r"%%(\w+)", first)
    if m and m.group(1) not in PYTHON_CELL_MAGICS:
        return None
    return "\n".join(re.sub(r"^(\s*)[%!].*", r"\1pass", l) for l in lines)


@cache
def code_cells(page):
    """[(cell index, exported?, ast.Module or SyntaxError)] for the code cells of `page`; the index
    counts all cells (markdown too), as a notebook editor shows them."""
    cells = json.loads((NBS / page).read_text())["cells"]
    out = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        exported = bool(EXPORT_DIRECTIVES & directives(source).keys())
        code = python_source(source)
        if code is None:
            continue
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            tree = e
        out.append((i, exported, tree))
    return out


# ---------------------------------------------------------------- where each mlp name is defined

def module_of_import(node, package="mlp"):
    """The absolute module an `ImportFrom` reads ('mlp.layers' for `from .layers import`), or None."""
    if node.level:
        return ".".join([package] + ([node.module] if node.module else []))
    return node.module


def is_mlp(module):
    return module is not None and (module == "mlp" or module.startswith("mlp."))


class Package:
    """Where every name of `mlp` is defined, read from the generated module files (no import)."""

    def __init__(self):
        self.creator = {"mlp": None}      # module -> the notebook that creates it (None: hand-written)
        self.defs = {}                    # (module, name) -> notebook of the cell that defines it
        self.reexports = {}               # (module, name) -> (source module, source name or None)
        self.getattr_sources = {}         # module -> [(module, name or None)] its __getattr__ imports
        self.attachments = []             # (class module, class name, method, attaching notebook)
        self.class_methods = {}           # method name -> {notebooks whose class bodies define it}
        for path in sorted(PKG.glob("*.py")):
            if path.name != "_modidx.py":
                self._read(path)

    def _read(self, path):
        module = "mlp" if path.stem == "__init__" else f"mlp.{path.stem}"
        text = path.read_text()
        header = re.match(r"# AUTOGENERATED! DO NOT EDIT! File to edit: \.\./nbs/(\S+\.ipynb)\.", text)
        creator = header.group(1) if header else None
        self.creator[module] = creator
        markers = [(n, Path(m.group(1)).name if m.group(1).startswith("../nbs/") else creator)
                   for n, line in enumerate(text.splitlines(), 1)
                   if (m := re.match(r"# %% (\S+)", line))]

        def notebook_at(lineno):
            return next((nb for n, nb in reversed(markers) if n <= lineno), creator)

        for stmt in ast.parse(text).body:
            nb = notebook_at(stmt.lineno)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defs[(module, stmt.name)] = nb
                if isinstance(stmt, ast.ClassDef):
                    for item in stmt.body:
                        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                            self.class_methods.setdefault(item.name, set()).add(nb)
                elif stmt.name == "__getattr__":
                    self.getattr_sources[module] = [
                        target for node in ast.walk(stmt) if isinstance(node, ast.ImportFrom)
                        for _, target in self._import_targets(node)]
                for dec in getattr(stmt, "decorator_list", []):
                    # @patch_to(Cls) / @_patch_to(Cls): the function becomes a method of Cls
                    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name) \
                            and dec.func.id.lstrip("_") == "patch_to" and dec.args \
                            and isinstance(dec.args[0], ast.Name):
                        self.attachments.append((module, dec.args[0].id, stmt.name, nb))
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for t in (target.elts if isinstance(target, ast.Tuple) else [target]):
                        if isinstance(t, ast.Name):
                            self.defs[(module, t.id)] = nb
                        elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                            # Cls.method = f: attached to a class
                            self.attachments.append((module, t.value.id, t.attr, nb))
            elif isinstance(stmt, ast.ImportFrom):
                for bound, target in self._import_targets(stmt):
                    self.reexports[(module, bound)] = target

    def _import_targets(self, node):
        """[(bound name, (module, name) or (submodule, None))] for an `ImportFrom` of mlp; []
        for an import from another package."""
        src = module_of_import(node)
        if not is_mlp(src):
            return []
        return [(alias.asname or alias.name,
                 (f"{src}.{alias.name}", None) if self.is_module(f"{src}.{alias.name}") else (src, alias.name))
                for alias in node.names]

    @staticmethod
    def is_module(module):
        return module == "mlp" or (module.startswith("mlp.") and (PKG / f"{module[4:]}.py").exists())

    def notebook(self, module, name=None, _seen=()):
        """The defining notebook of `module.name` (of the module itself when name is None);
        None for the hand-written package level (`mlp`, `mlp.__version__`); raises KeyError for a
        name `mlp` does not have."""
        if name is None:
            return self.creator[module]
        if (module, name) in self.defs:
            return self.defs[(module, name)]
        if self.is_module(f"{module}.{name}"):
            return self.creator[f"{module}.{name}"]
        if (module, name) in self.reexports and (module, name) not in _seen:
            return self.notebook(*self.reexports[(module, name)], _seen=_seen + ((module, name),))
        # a name served by the module's __getattr__ (PEP 562: moved or deprecated names) comes
        # from the module that __getattr__ imports it from, else from the __getattr__ cell itself
        for src, src_name in self.getattr_sources.get(module, []):
            if src_name in (None, name):
                try:
                    return self.notebook(src, name, _seen)
                except KeyError:
                    pass
        if (module, "__getattr__") in self.defs:
            return self.defs[(module, "__getattr__")]
        raise KeyError(f"{module}.{name}")

    def later_methods(self):
        """{method: (qualified name, notebook)} for the methods a later notebook attaches to a
        class, kept only when that name is attached by one notebook and defined nowhere else."""
        attached_by = {}
        for module, cls, method, nb in self.attachments:
            attached_by.setdefault(method, set()).add(nb)
        ordinary = {}
        for (module, name), nb in self.defs.items():
            ordinary.setdefault(name, set()).add(nb)
        out = {}
        for module, cls, method, nb in self.attachments:
            try:
                cls_nb = self.notebook(module, cls)
            except KeyError:
                continue   # not an mlp class
            elsewhere = (ordinary.get(method, set()) | self.class_methods.get(method, set())) - {nb}
            if cls_nb != nb and attached_by[method] == {nb} and not elsewhere:
                out[method] = (f"{cls}.{method}", nb)
        return out


@cache
def package():
    return Package()


def modidx_symbols():
    """The 'syms' table of nbdev's `mlp/_modidx.py`, read without importing the package."""
    tree = ast.parse((PKG / "_modidx.py").read_text())
    assign = next(s for s in tree.body if isinstance(s, ast.Assign) and s.targets[0].id == "d")
    return ast.literal_eval(assign.value)["syms"]


# ---------------------------------------------------------------- the names a page uses

def chain(node):
    """['mlp', 'data', 'one_hot'] for the attribute chain `mlp.data.one_hot`; None if its root is
    not a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id] + parts[::-1] if isinstance(node, ast.Name) else None


def root_name(node):
    """The name an expression like `a.b(c)[0].d` starts from (`a`), or None."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def aliases(page):
    """(mlp_aliases, foreign): the names a page binds to mlp modules by its imports
    ({'mlp': 'mlp', 'metrics': 'mlp.metrics'}), and every name it imports from other packages."""
    pkg, mlp_aliases, foreign = package(), {}, set(NON_MLP_ALIASES)
    for _, _, tree in code_cells(page):
        if isinstance(tree, SyntaxError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if is_mlp(alias.name):
                        if alias.asname:
                            mlp_aliases[alias.asname] = alias.name
                        else:
                            mlp_aliases["mlp"] = "mlp"
                    else:
                        foreign.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                src = module_of_import(node)
                for alias in node.names:
                    if not is_mlp(src):
                        foreign.add(alias.asname or alias.name)
                    elif pkg.is_module(f"{src}.{alias.name}"):
                        mlp_aliases[alias.asname or alias.name] = f"{src}.{alias.name}"
    return mlp_aliases, foreign


def uses(tree, mlp_aliases, foreign, later_methods):
    """The mlp names a cell uses: [(name as written, module, attribute or None)], where (module,
    None) is a whole module and a later-attached method is ('Cls.method', None, notebook)."""
    pkg, found = package(), []

    def walk_chain(module, attrs, written):
        for attr in attrs:
            if attr.startswith("__") and attr.endswith("__"):   # mlp.__file__, mlp.X.__all__
                found.append((written, module, None))
                return
            written = f"{written}.{attr}"
            if pkg.is_module(f"{module}.{attr}"):
                module = f"{module}.{attr}"
                found.append((written, module, None))
            else:
                found.append((written, module, attr))
                return

    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_mlp(alias.name):
                    head, *rest = alias.name.split(".")
                    walk_chain("mlp", rest, "mlp")
        elif isinstance(node, ast.ImportFrom) and is_mlp(src := module_of_import(node)):
            for alias in node.names:
                if alias.name == "*":
                    found.append((src, src, None))
                else:
                    walk_chain(src, [alias.name], src)
        elif isinstance(node, ast.Attribute):
            parts = chain(node)
            if id(node) not in inner and parts and parts[0] in mlp_aliases:
                walk_chain(mlp_aliases[parts[0]], parts[1:], mlp_aliases[parts[0]])
            if node.attr in later_methods and root_name(node.value) not in foreign:
                qualname, nb = later_methods[node.attr]
                found.append((qualname, None, nb))
    return found


@cache
def scan():
    """(violations, unknown, unparsable) over all pages:
    violations: {(page, name): [(cell, defining notebook)]} breaking the reading order;
    unknown: [(page, cell, name)] for names mlp does not have; unparsable: [(page, cell, error)]."""
    pkg, pages = package(), toc()[0]
    datasets_nb = pkg.creator.get("mlp.datasets")
    later_methods = pkg.later_methods()
    violations, unknown, unparsable = {}, [], []
    for page in pages:
        mlp_aliases, foreign = aliases(page)
        for cell, exported, tree in code_cells(page):
            if isinstance(tree, SyntaxError):
                unparsable.append((page, cell, tree))
                continue
            for written, module, attr in uses(tree, mlp_aliases, foreign, later_methods):
                if module is None:
                    nb = attr       # a later-attached method: its notebook
                else:
                    try:
                        nb = pkg.notebook(module, attr)
                    except KeyError:
                        unknown.append((page, cell, written))
                        continue
                if nb is None or nb == page or page == pages[0]:            # (a): the root page
                    continue
                if nb in pages and position(nb) < position(page):
                    continue
                if exported and not is_appendix(page) and is_appendix(nb):  # (b)
                    continue
                if not exported and is_case_study(page) and nb == datasets_nb:  # (c)
                    continue
                cells = violations.setdefault((page, written), [])
                if (cell, nb) not in cells:
                    cells.append((cell, nb))
    return violations, unknown, unparsable


# ---------------------------------------------------------------- the tests

def test_index_matches_modidx():
    """Every symbol nbdev lists in mlp/_modidx.py is found, in the module file nbdev names."""
    pkg = package()
    for module, symbols in modidx_symbols().items():
        for qualname, (_, file) in symbols.items():
            name = qualname[len(module) + 1:].split(".")[0]
            assert f"mlp/{Path(file).name}" == f"mlp/{module[4:]}.py", qualname
            assert pkg.defs.get((module, name)), f"{qualname} (listed in mlp/_modidx.py) not found in {file}"


def test_every_code_cell_parses():
    _, _, unparsable = scan()
    assert not unparsable, "\n".join(f"{page} cell {cell}: does not parse ({err.msg}, line {err.lineno})"
                                     for page, cell, err in unparsable)


def test_pages_use_only_existing_mlp_names():
    _, unknown, _ = scan()
    assert not unknown, "\n".join(f"{page} cell {cell}: {name} is not a name of the mlp package"
                                  for page, cell, name in unknown)


def test_book_reads_in_order():
    """A page uses an mlp name only on or after the page that defines it (see the module
    docstring for the exceptions); nothing in ALLOWED may be stale."""
    violations, _, _ = scan()
    new = sorted(set(violations) - ALLOWED, key=lambda k: (position(k[0]), k[1]))
    stale = sorted(ALLOWED - set(violations))
    lines = [f"{page} cell {cell}: uses {name}, defined in {nb}, which comes later in _toc.yml: "
             f"move the use after {nb}, or define the name earlier"
             for page, name in new for cell, nb in violations[(page, name)]]
    lines += [f"ALLOWED entry {entry!r} no longer occurs: remove it from ALLOWED in tests/test_order.py"
              for entry in stale]
    assert not lines, "\n".join(lines)


def test_allow_list_is_empty():
    "The book reads in order with no exception beyond the three in the module docstring."
    assert not ALLOWED, f"{len(ALLOWED)} reading-order violations are allowed: move the uses or the definitions"


def test_file_names_follow_the_toc():
    pages = toc()[0]
    chapters = pages[1:]   # without the root page
    assert sorted(chapters) == chapters, (
        "notebook file names must sort in the order of _toc.yml:\n"
        f"  toc order:    {chapters}\n  sorted names: {sorted(chapters)}")
    missing = sorted(p.name for p in NBS.glob("*.ipynb") if p.name not in pages)
    assert not missing, f"notebooks not in _toc.yml: {missing}"


def test_module_creator_sorts_before_its_appenders():
    creators, appenders = {}, {}
    for path in sorted(NBS.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            found = directives("".join(cell["source"]))
            for module in found.get("default_exp", []):
                creators.setdefault(module, set()).add(path.name)
            for name in EXPORT_DIRECTIVES & found.keys():
                for module in found[name]:
                    appenders.setdefault(module, set()).add(path.name)
    problems = [f"mlp.{m} is created by {sorted(nbs)}: one notebook must create it"
                for m, nbs in creators.items() if len(nbs) != 1]
    for module, nbs in sorted(appenders.items()):
        creator = min(creators.get(module, {None}), key=str)
        if creator is None:
            problems.append(f"{sorted(nbs)} export to mlp.{module}, which no notebook creates (#| default_exp)")
            continue
        problems += [f"{nb} appends to mlp.{module} (#| export {module}) but sorts before {creator}, which "
                     f"creates it: nbdev would overwrite the appended cells; rename {nb} to sort after {creator}"
                     for nb in sorted(nbs) if nb != creator and nb < creator]
        if package().creator.get(f"mlp.{module}") != creator:
            problems.append(f"mlp/{module}.py names {package().creator.get(f'mlp.{module}')} as its notebook, "
                            f"but {creator} has #| default_exp {module}: re-export the notebooks")
    assert not problems, "\n".join(problems)


def test_index_learning_path_lists_the_toc_in_order():
    "The landing page's learning path links every chapter once, in the order of _toc.yml."
    pages, _ = toc()
    index = json.loads((NBS / "index.ipynb").read_text(encoding="utf-8"))
    path = next("".join(c["source"]) for c in index["cells"]
                if c["cell_type"] == "markdown" and "## The learning path" in "".join(c["source"]))
    linked = re.findall(r"\]\(([\w.-]+\.ipynb)\)", path)
    expected = [p for p in pages if p != "index.ipynb"]
    assert linked == expected, f"the learning path on nbs/index.ipynb links {linked}, _toc.yml has {expected}"
