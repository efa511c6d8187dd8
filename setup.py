"""Package metadata for `mlp`, read from nbdev's settings.ini so there is one source of truth."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read(Path(__file__).parent / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

# Optional dependency sets, pinned to a combination known to install and work offline.
# The package itself needs NumPy only.
extras = {
    "dev": [
        "nbdev==2.4.14", "fastcore==1.14.5", "execnb==0.1.18", "ghapi==1.1.1",
        "pytest==9.2.0", "hypothesis==6.170.17", "ipykernel==7.4.0", "nbformat==5.11.1",
    ],
    "book": [
        "jupyter-book==1.0.4.post1", "sphinx-mathjax-offline==0.0.2", "matplotlib==3.11.2",
        "scikit-learn==1.9.1", "tqdm==4.70.1",
    ],
    "compare": ["tensorflow-cpu==2.21.0", "threadpoolctl==3.8.0", "scikit-learn==1.9.1"],
    "browser": ["playwright==1.65.2"],
    "lab": ["jupyterlab==4.6.6"],
}
extras["all"] = sorted({p for deps in extras.values() for p in deps})

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8")
    if (Path(__file__).parent / "README.md").exists() else cfg["description"],
    long_description_content_type="text/markdown",
    author=cfg["author"],
    # URLs and the e-mail address only when settings.ini has a real one (empty until then).
    **({"author_email": cfg["author_email"]} if cfg.get("author_email") else {}),
    license="Apache-2.0",
    keywords=cfg["keywords"].split(),
    **({"url": cfg["git_url"]} if cfg.get("git_url") else {}),
    **({"project_urls": {"Documentation": cfg["doc_host"] + cfg.get("doc_baseurl", "/")}}
       if cfg.get("doc_host") else {}),
    packages=setuptools.find_packages(include=["mlp", "mlp.*"]),
    python_requires=">=" + cfg["min_python"],
    install_requires=cfg["requirements"].split(),
    extras_require=extras,
    classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: Apache Software License"],
    zip_safe=False,
    entry_points={"nbdev": [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"]},
)
