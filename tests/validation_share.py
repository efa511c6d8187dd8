"""Count how much of `mlp/` is validation, by the rule of issue 15 (also runnable as a script).

Validation lines: `raise` and `assert` statements, `if` blocks whose body only raises, and the
whole of functions named `_?(check|validate|require|precheck)...`. Denominator: the non-blank,
non-comment, non-docstring lines of `mlp/*.py` except `_modidx.py`."""
import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "mlp"
CHECK_NAME = re.compile(r"_?(check|validate|require|precheck)\w*$")


def _lines(node, end=None):
    return set(range(node.lineno, (end or node.end_lineno) + 1))


def count(path):
    "(validation lines, code lines) of one module."
    src = Path(path).read_text()
    tree = ast.parse(src)
    text = src.splitlines()
    code = {i for i, line in enumerate(text, 1) if line.strip() and not line.strip().startswith("#")}
    docs, checks = set(), set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            docs |= _lines(body[0])
        if isinstance(node, (ast.Raise, ast.Assert)):
            checks |= _lines(node)
        elif isinstance(node, ast.If) and node.body and all(isinstance(s, ast.Raise) for s in node.body):
            checks |= _lines(node, node.body[-1].end_lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and CHECK_NAME.match(node.name):
            checks |= _lines(node)
    code -= docs
    return len(checks & code), len(code)


def share():
    "{module: (validation, code)} for every module, and the package's validation share."
    per = {p.name: count(p) for p in sorted(PKG.glob("*.py")) if p.name != "_modidx.py"}
    v, c = (sum(x) for x in zip(*per.values()))
    return per, v / c


if __name__ == "__main__":
    per, s = share()
    for name, (v, c) in per.items(): print(f"{name:20s} {v:4d} / {c:4d}  {v / max(c, 1):5.1%}")
    print(f"validation share of mlp/: {s:.1%}")
