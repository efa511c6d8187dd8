"""mlp: a multilayer perceptron built from first principles in NumPy.

Each module is exported from one chapter notebook of the book (see DESIGN.md):
`mlp.Multilayerperceptron` is chapter 14 (`nbs/14_model.ipynb`), `mlp.load` chapter 15.
This file is the only hand-written one in the package."""
__version__ = "0.1.0"

from .model import Multilayerperceptron


def load(path):
    "Load a model saved with `Multilayerperceptron.save` (chapter 15, `mlp.persistence.load_model`)."
    from .persistence import load_model
    return load_model(path)
