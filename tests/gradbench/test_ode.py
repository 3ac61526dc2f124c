"""GradBench ode: the tool's primal and gradient (generated code, python backend) against one
Runge-Kutta step written as the degree-4 Taylor polynomial of the linear system's matrix, and
the gradient against central differences.

On the eval's smallest input (n = 1000, s = 1) the last component of y(2) does not depend on x
at all: each Runge-Kutta stage reaches one index further, so s steps reach y_0..y_{4s-1}, and
that gradient is 0 (it is at every default size of the eval). A small n = 6, s = 3 input is
checked besides, where every component of the gradient is nonzero."""
import numpy as np
import pytest


def taylor_rk4(x, s):
    """y(2) after s steps: for z' = B z, z = (y, 1), one classical Runge-Kutta step of size h is
    z <- sum_{j<=4} (h B)^j / j! z, applied here by repeated products with B."""
    h = 2.0 / s
    y = np.zeros_like(x)

    def B(v, one):   # y' = x_0 e_0 + diag(x_1.., -1) y; the constant row of B is 0
        out = np.zeros_like(v)
        out[0] = x[0] * one
        out[1:] = x[1:] * v[:-1]
        return out
    for _ in range(s):
        term, total, one = y, y.copy(), 1.0
        for j in range(1, 5):
            term = h * B(term, one) / j
            one = 0.0   # (h B)^j applied to (y, 1) for j >= 1 has a 0 last entry
            total = total + term
        y = total
    return y


@pytest.mark.parametrize("n, s", [(1000, 1), (6, 3)], ids=["smallest", "n6-s3"])
def test_ode(eval_module, differences, n, s):
    ode = eval_module("ode")
    np.random.seed(31337)   # as the eval draws it
    x = np.random.rand(n)
    input = {"x": x.tolist(), "s": s, "min_runs": 1, "min_seconds": 0}
    primal, gradient = ode.functions("python")
    y, _ = primal(input)
    expected_y = taylor_rk4(x, s)
    assert np.count_nonzero(expected_y) == min(n, 4 * s)
    np.testing.assert_allclose(y, expected_y, rtol=1e-12, atol=0)
    got, _ = gradient(input)
    expected = differences(lambda x: ode.ode_last(x, s), x)
    assert len(got) == n
    if n > 4 * s:
        assert not np.any(got) and not np.any(expected)
    else:
        assert np.all(expected != 0)
        np.testing.assert_allclose(got, expected, rtol=1e-7)
