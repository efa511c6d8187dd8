"""Write tests/data/model_format1_{adam,sgd}.npz: small models saved by the first edition (commit
e9dd201, file format version 1), with the predictions they make, so that tests can check that
format-1 files still load. Run once, with that commit's mlp on the path; kept for the record."""
from pathlib import Path
import numpy as np
import mlp

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(5)
X, y = rng.standard_normal((4, 40)), rng.integers(0, 3, 40)
layers = [(4, False, 'ReLu', 1), (6, True, 'ReLu', 0.8), (3, False, 'softmax', 1)]
for adam in (True, False):
    model = mlp.Multilayerperceptron(layer_construct=layers, epoch=2, lr=0.05, adam=adam, seed=3,
                                     minibatch_size=16, Regularization=True, lamda=0.01)
    model.fit(X, y)
    name = 'adam' if adam else 'sgd'
    model.save(HERE / f'model_format1_{name}.npz')
    np.savez(HERE / f'model_format1_{name}_expected.npz', X=X, y=y, predict=model.predict(X))
print('written')
