"""The bibliography is well formed and matches the citations: every `{cite}` key of the
notebooks is an entry of book/references.bib, every entry is cited, and every entry's braces
balance (an unclosed entry silently swallows the next one, which then vanishes from the book)."""
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIB = (ROOT / "book" / "references.bib").read_text()
ENTRIES = [e for e in re.split(r"\n(?=@)", BIB) if e.lstrip().startswith("@")]
KEYS = [re.match(r"\s*@\w+\{([^,\s]+),", e).group(1) for e in ENTRIES]


def cited_keys():
    keys = set()
    for nb in sorted((ROOT / "nbs").glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", "".join(cell["source"])):
                keys.update(k.strip() for k in group.split(","))
    return keys


def test_every_entry_is_closed():
    unbalanced = [k for k, e in zip(KEYS, ENTRIES) if e.count("{") != e.count("}")]
    assert not unbalanced, f"entries whose braces do not balance: {unbalanced}"


def test_keys_are_unique():
    assert len(KEYS) == len(set(KEYS)), sorted(k for k in KEYS if KEYS.count(k) > 1)


def test_every_citation_has_an_entry_and_every_entry_is_cited():
    cited = cited_keys()
    assert not cited - set(KEYS), f"cited but not in references.bib: {sorted(cited - set(KEYS))}"
    assert not set(KEYS) - cited, f"in references.bib but never cited: {sorted(set(KEYS) - cited)}"
