"""GradBench ``lstm``: ADBench's LSTM (diagonal weights) over a character sequence, the mean
log-likelihood of the next character, and its gradient with respect to main_params and
extra_params (flattened row by row, then concatenated).

main_params[2 i] holds layer i's weights (forget, input, output, change gates: b each) and
main_params[2 i + 1] its biases; state[2 i] and state[2 i + 1] the hidden and cell state of
layer i; extra_params the input weights, the output weights and the output biases.
"""
import numpy as np

import tapeflow as tf

from .runs import measured


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_objective(main_params, extra_params, state, sequence):
    layers = main_params.shape[0] // 2
    c = sequence.shape[0]
    b = sequence.shape[1]
    hidden = np.zeros((layers, b))
    cell = np.zeros((layers, b))
    for i in range(layers):
        hidden[i] = state[2 * i]
        cell[i] = state[2 * i + 1]
    total = 0.0
    for t in range(c - 1):
        x = sequence[t] * extra_params[0]
        for i in range(layers):
            w = main_params[2 * i]
            bias = main_params[2 * i + 1]
            forget = sigmoid(x * w[:b] + bias[:b])
            ingate = sigmoid(hidden[i] * w[b:2 * b] + bias[b:2 * b])
            outgate = sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
            change = np.tanh(hidden[i] * w[3 * b:] + bias[3 * b:])
            cell[i] = cell[i] * forget + ingate * change
            hidden[i] = outgate * np.tanh(cell[i])
            x = hidden[i]
        ypred = x * extra_params[1] + extra_params[2]
        lse = np.log(np.sum(np.exp(ypred)) + 2.0)
        total += np.sum(sequence[t + 1] * (ypred - lse))
    return -total / ((c - 1) * b)


def prepare(input):
    return tuple(np.array(input[name], dtype=np.float64)
                 for name in ("main_params", "extra_params", "state", "sequence"))


def jacobian_output(grads):
    return grads[0].ravel().tolist() + grads[1].ravel().tolist()


def functions(backend="native"):
    """(objective, jacobian) as the tool runs them: the derivative on ``backend``; the tests use
    "python" (the same generated code, without LLVM's compile time)."""
    primal = tf.jit(lstm_objective) if backend == "native" else lstm_objective
    return (measured(primal, prepare, float),
            measured(tf.grad(lstm_objective, argnums=(0, 1), backend=backend), prepare,
                     jacobian_output))


objective, jacobian = functions()
