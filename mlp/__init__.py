"""mlp: a multilayer perceptron built from first principles in NumPy.

Each module is exported from one chapter notebook of the book (see DESIGN.md):
`mlp.Multilayerperceptron` is chapter 14 (`nbs/14_model.ipynb`), `mlp.load` is appendix A2's
`mlp.persistence.load_model` (importing `mlp.persistence` also gives the model its `save`).
This file is the only hand-written one in the package."""
__version__ = "0.2.0"

from .model import Multilayerperceptron
from .persistence import load_model as load
