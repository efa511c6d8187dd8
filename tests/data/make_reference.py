"""Write tests/data/readme_reference.npz: the README network (784-128-64-10, BatchNorm, dropout
0.8, Adam) trained for 2 epochs in float64 on small synthetic data, seed 0.

Generated once against commit e9dd201 (the first edition) so that tests/test_reference.py can
check that later refactors leave training bitwise (<= 1e-12 relative) unchanged. Regenerate it
only in a commit that changes rounding on purpose, and say why in that commit."""
from pathlib import Path
import numpy as np
import mlp

LAYERS = [(784, False, 'ReLu', 1), (128, True, 'ReLu', 0.8), (64, True, 'ReLu', 0.8), (10, False, 'softmax', 1)]


def data():
    rng = np.random.default_rng(12345)
    X = rng.random((784, 300))
    y = rng.integers(0, 10, 300)
    return X, y


def train():
    X, y = data()
    model = mlp.Multilayerperceptron(epoch=2, lr=0.01, cost_history=True, Regularization=False,
                                     lamda=0.001, layer_construct=LAYERS, minibatch_size=64,
                                     adam=True, seed=0)
    model.fit(X, y)
    return model, X


if __name__ == "__main__":
    model, X = train()
    out = {f"param.{k}": v for k, v in model.parameters.items()}
    out |= {f"bn.{k}": v for k, v in model.bn_state.items()}
    out["costs"] = np.array(model.costs)
    out["predict"] = model.predict(X[:, :20])
    np.savez_compressed(Path(__file__).with_name("readme_reference.npz"), **out)
    print("costs", model.costs)
