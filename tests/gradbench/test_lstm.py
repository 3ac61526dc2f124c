"""GradBench lstm: the tool's objective and jacobian (generated code, python backend) on an input
made as the eval makes it (2 layers, the eval's fewest; the text's characters as bit rows;
uniform random state and parameters), from a short sentence instead of the eval's data file,
against ADBench's objective written with scalar loops over the flat parameter arrays, and the
jacobian (main_params then extra_params, row by row) against central differences."""
import math

import numpy as np

TEXT = "Sphinx of black quartz, judge my vow."


def lstm_input(text, layers, rng):
    bits = math.ceil(math.log2(max(ord(c) for c in text)))   # as the eval
    sequence = [[float(b) for b in bin(ord(c))[2:].zfill(bits)] for c in text]
    return {"main_params": rng.random((2 * layers, 4 * bits)).tolist(),
            "extra_params": rng.random((3, bits)).tolist(),
            "state": rng.random((2 * layers, bits)).tolist(), "sequence": sequence,
            "min_runs": 1, "min_seconds": 0}


def flat_objective(main, extra, state, sequence, layers, b):
    """ADBench's loss with its flat layout: layer i's weights then biases at 8 b i (forget,
    input, output, change gates), its hidden then cell state at 2 b i."""
    def sigmoid(v):
        return 1.0 / (1.0 + math.exp(-v))
    state = list(state)
    total = 0.0
    c = len(sequence) // b
    for t in range(c - 1):
        layer_input = [sequence[b * t + i] * extra[i] for i in range(b)]
        for layer in range(layers):
            w, s = 8 * b * layer, 2 * b * layer
            for i in range(b):
                hidden, cell = state[s + i], state[s + b + i]
                forget = sigmoid(layer_input[i] * main[w + i] + main[w + 4 * b + i])
                ingate = sigmoid(hidden * main[w + b + i] + main[w + 5 * b + i])
                outgate = sigmoid(layer_input[i] * main[w + 2 * b + i] + main[w + 6 * b + i])
                change = math.tanh(hidden * main[w + 3 * b + i] + main[w + 7 * b + i])
                state[s + b + i] = cell * forget + ingate * change
                state[s + i] = outgate * math.tanh(state[s + b + i])
            layer_input = state[s:s + b]
        ypred = [layer_input[i] * extra[b + i] + extra[2 * b + i] for i in range(b)]
        lse = math.log(sum(math.exp(v) for v in ypred) + 2.0)
        total += sum(sequence[b * (t + 1) + i] * (ypred[i] - lse) for i in range(b))
    return -total / ((c - 1) * b)


def test_lstm_jacobian(eval_module, differences):
    lstm = eval_module("lstm")
    layers = 2
    input = lstm_input(TEXT, layers, np.random.default_rng(7))
    objective, jacobian = lstm.functions("python")
    main, extra, state, sequence = lstm.prepare(input)
    b = sequence.shape[1]
    value, _ = objective(input)
    reference = flat_objective(main.ravel(), extra.ravel(), state.ravel(), sequence.ravel(), layers, b)
    np.testing.assert_allclose(value, reference, rtol=1e-12)
    got, _ = jacobian(input)
    assert len(got) == main.size + extra.size

    def f(params):
        return lstm.lstm_objective(params[:main.size].reshape(main.shape),
                                   params[main.size:].reshape(extra.shape), state, sequence)
    expected = differences(f, np.concatenate([main.ravel(), extra.ravel()]), h=1e-5)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)   # the smallest entry is 5e-7
