"""GradBench ba: the tool's objective and sparse Jacobian (generated code, python backend) on
ba1's camera, point, weight and feature duplicated to a few cameras, points and observations,
every Jacobian entry against central differences of the objective."""
import numpy as np

BA1 = {"cam": [-0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673, 419.194514,
               5.864426, -8.518870, 0.087812, 0.002739],
       "x": [7.203245, 0.001144, 3.023326], "w": 0.417022, "feat": [271.760969, 834.209256]}


def test_ba_jacobian(eval_module, differences):
    ba = eval_module("ba")
    input = BA1 | {"n": 3, "m": 4, "p": 16, "min_runs": 1, "min_seconds": 0}
    objective, jacobian = ba.functions("python")
    out, _ = objective(input)
    cams, X, w, obs, feats = ba.prepare(input)
    err, werr = ba.ba_objective(cams, X, w, obs, feats)
    assert out["reproj_error"]["repeated"] == 16 and out["w_err"]["repeated"] == 16
    np.testing.assert_allclose(out["reproj_error"]["elements"], err[0])
    short, _ = jacobian(input)
    assert all(len(v) == 31 for v in short.values())
    rows, cols, vals = jacobian.fn(cams, X, w, obs, feats)   # the whole matrix
    assert [short["rows"], short["cols"], short["vals"]] == \
        [a[:30].tolist() + a[-1:].tolist() for a in (rows, cols, vals)]
    dense = np.zeros((3 * 16, 11 * 3 + 3 * 4 + 16))
    for r in range(3 * 16):
        dense[r, cols[rows[r]:rows[r + 1]]] = vals[rows[r]:rows[r + 1]]

    def residuals(params):
        c, x, ww = params[:33].reshape(3, 11), params[33:45].reshape(4, 3), params[45:]
        e, we = ba.ba_objective(c, x, ww, obs, feats)
        return np.concatenate([e.ravel(), we])
    params = np.concatenate([cams.ravel(), X.ravel(), w])
    expected = differences(residuals, params)
    np.testing.assert_allclose(dense, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())
