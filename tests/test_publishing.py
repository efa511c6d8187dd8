"""What publishes the book stays in step with the Makefile and settings.ini.

* `.github/workflows/publish.yml` (GitHub Actions; it cannot run here, so it is parsed): every
  `make` target it calls exists in the Makefile, it runs `make test`, `make book` and `make pdf`
  in that order, it triggers on a push to main and on pull requests, and only a push deploys.
* `CITATION.cff`: valid YAML in Citation File Format 1.2.0, whose title, authors, version and
  license are settings.ini's, with a release date; any URL it gives is one of settings.ini's.
* settings.ini holds no placeholder URL or address (a field without a real one stays empty).
* The landing page (nbs/index.ipynb) has a "How to cite" section naming the title and authors.
"""
import configparser
import datetime
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
CFG = configparser.ConfigParser(delimiters=["="])
CFG.read(ROOT / "settings.ini", encoding="utf-8")
CFG = CFG["DEFAULT"]
# settings.ini `license` (nbdev's short names) -> SPDX identifier used by CITATION.cff
SPDX = {"apache2": "Apache-2.0", "mit": "MIT", "gpl3": "GPL-3.0-only", "bsd3": "BSD-3-Clause"}
PLACEHOLDER = re.compile(r"example\.(org|com|net)|your[-_]?(name|org|user)|localhost", re.I)


@pytest.fixture(scope="module")
def wf():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def makefile_targets():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set()
    for m in re.finditer(r"^([A-Za-z0-9_.-][A-Za-z0-9_. -]*?)\s*:(?!=)", text, re.M):
        targets.update(t for t in m.group(1).split() if not t.startswith("."))
    return targets


def steps(wf):
    return [(name, s) for name, job in wf["jobs"].items() for s in job.get("steps", [])]


def make_calls(wf):
    "The make targets the workflow runs, in order (`make x`, `sudo make x`, `make x VAR=...`)."
    calls = []
    for _, s in steps(wf):
        for line in str(s.get("run", "")).splitlines():
            for m in re.finditer(r"(?:^|[;&|]\s*|sudo\s+)make\s+((?:[\w.-]+\s*)+)", line.strip()):
                calls += [w for w in m.group(1).split() if "=" not in w and not w.startswith("-")]
    return calls


def test_workflow_calls_existing_make_targets(wf):
    calls, targets = make_calls(wf), makefile_targets()
    assert calls, "the workflow runs no make target"
    missing = sorted(set(calls) - targets)
    assert not missing, f"the workflow calls make targets the Makefile lacks: {missing} (Makefile has {sorted(targets)})"
    main = [c for c in calls if c in ("test", "book", "pdf")]
    assert main == ["test", "book", "pdf"], f"expected make test, make book, make pdf in that order, got {calls}"


def test_workflow_triggers(wf):
    # YAML 1.1 reads the key `on` as the boolean True.
    on = wf.get(True, wf.get("on"))
    assert isinstance(on, dict), f"triggers: {on!r}"
    assert set(on) == {"push", "pull_request"}, sorted(map(str, on))
    assert on["push"]["branches"] == ["main"], on["push"]


def test_only_a_push_to_main_deploys(wf):
    uses_deploy = [name for name, s in steps(wf) if str(s.get("uses", "")).startswith("actions/deploy-pages@")]
    assert uses_deploy, "no actions/deploy-pages step"
    for name in set(uses_deploy):
        cond = wf["jobs"][name].get("if", "")
        assert "github.event_name == 'push'" in cond and "refs/heads/main" in cond, f"job {name} deploys on: {cond!r}"
        assert wf["jobs"][name]["permissions"] == {"pages": "write", "id-token": "write"}
        assert "build" in (wf["jobs"][name].get("needs") or [])
    uploads = [s for _, s in steps(wf) if str(s.get("uses", "")).startswith("actions/upload-pages-artifact@")]
    assert len(uploads) == 1 and uploads[0]["with"]["path"] == "book/_build/html", uploads
    assert "github.event_name == 'push'" in uploads[0].get("if", ""), "the site is uploaded for pull requests too"


def test_workflow_caches_data_and_installs_torch(wf):
    caches = [s for _, s in steps(wf) if str(s.get("uses", "")).startswith("actions/cache@")]
    assert any("mlp-data" in str(c["with"]["path"]) for c in caches), caches
    runs = "\n".join(str(s.get("run", "")) for _, s in steps(wf))
    assert "MLP_DATA=" in runs and "SCIKIT_LEARN_DATA=" in runs
    calls = make_calls(wf)
    assert "torch" in calls and calls.index("torch") < calls.index("test"), calls


def test_citation_file():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"].strip()
    assert cff["title"] == CFG["title"]
    assert [a.get("name") or f"{a.get('given-names')} {a.get('family-names')}" for a in cff["authors"]] \
        == [a.strip() for a in CFG["author"].split(",")]
    assert str(cff["version"]) == CFG["version"], "change CITATION.cff's version (and date-released) with settings.ini's"
    assert cff["license"] == SPDX[CFG["license"]]
    date = cff["date-released"]
    date = date if isinstance(date, datetime.date) else datetime.date.fromisoformat(str(date))
    assert datetime.date(2026, 1, 1) <= date <= datetime.date.today()
    # URLs only when settings.ini has them (it is the one place for the project's addresses)
    site = CFG.get("doc_host", "") and CFG.get("doc_host", "") + CFG.get("doc_baseurl", "")
    allowed = {u for u in (CFG.get("git_url", ""), site, site.rstrip("/")) if u}
    for key in ("url", "repository-code", "repository", "repository-artifact"):
        if key in cff:
            assert cff[key] in allowed, f"CITATION.cff {key}: {cff[key]} is not a URL of settings.ini ({allowed or 'none'})"


def test_settings_have_no_placeholder_urls():
    for key in ("doc_host", "doc_baseurl", "git_url", "author_email", "user"):
        value = CFG.get(key, "")
        assert not PLACEHOLDER.search(value), f"settings.ini {key} = {value}: a placeholder; leave it empty until a real one exists"
    for key in ("doc_host", "git_url"):
        value = CFG.get(key, "")
        assert value == "" or re.match(r"https://[\w.-]+\.\w+(/|$)", value), f"settings.ini {key} = {value!r}"
    for path in ("CITATION.cff", "setup.py", "book/_config.yml", ".github/workflows/publish.yml"):
        assert not PLACEHOLDER.search((ROOT / path).read_text(encoding="utf-8")), f"placeholder URL in {path}"


def test_index_says_how_to_cite():
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text(encoding="utf-8"))
    texts = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    cite = [t for t in texts if re.search(r"^#+\s*How to cite", t, re.M)]
    assert len(cite) == 1, "nbs/index.ipynb needs one '## How to cite' section"
    flat = " ".join(cite[0].split())
    assert CFG["author"] in flat, f"the How to cite line should name {CFG['author']!r}"
    assert " ".join(CFG["title"].split(": ", 1)[1].split()) in flat, "the How to cite line should give the title"
    assert "CITATION.cff" in flat
