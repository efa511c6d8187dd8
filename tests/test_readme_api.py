"""The README example of the original NumPy MLP runs as printed on the book's landing page.

`nbs/index.ipynb` shows the example (`#| eval: false`: it needs MNIST as `X_train`, `Y_train`);
this test runs the same calls, with the same layers and keywords, on a small random stand-in: 256
examples of 784 random "pixels" with random one-hot labels. It checks that the interface exists
and returns what the page says (probabilities of shape (10, m) whose columns sum to 1, one
predicted class per example, four metrics in [0, 1]); the numbers say nothing about digits.
"""
import numpy as np

import mlp


def test_readme_example_runs_on_random_stand_in_data():
    rng = np.random.default_rng(0)
    m = 256
    X_train = rng.random((784, m))                      # (features, examples)
    Y_train = np.eye(10)[:, rng.integers(0, 10, m)]     # one-hot, (10, m)
    X, Y = X_train, Y_train

    layers = [(784, False, 'ReLu', 1), (128, True, 'ReLu', 0.8), (64, True, 'ReLu', 0.8), (10, False, 'softmax', 1)]
    MLP = mlp.Multilayerperceptron(epoch=4, lr=0.01, cost_history=True, Regularization=False,
          lamda=0.001, layer_construct=layers, minibatch_size=64, adam=True, seed=0)
    MLP.fit(X_train, Y_train); A = MLP.predict(X); P = MLP.predict_class(X)
    acc, precision, recall, f1 = MLP.matrix_eval(Y, P)

    assert A.shape == (10, m) and np.allclose(A.sum(axis=0), 1), A.shape
    assert np.shape(P) == (m,), np.shape(P)
    assert all(0 <= v <= 1 for v in (acc, precision, recall, f1)), (acc, precision, recall, f1)
