"""GradBench ``ba``: ADBench's bundle adjustment. Camera i (11 numbers: Rodrigues rotation,
centre, focal length, principal point, two radial distortion coefficients) sees point j; the
reprojection error of observation k is w_k (projection - feature), and w_k has the error
1 - w_k^2. The input is one camera, point, weight and feature, duplicated as the eval says
(n cameras, m points, p observations; observation k is camera k mod n, point k mod m).

The Jacobian is sparse: observation k's two residuals depend on its camera, its point and w_k
only. Gathering each observation's camera and point into rows of their own makes that block
structure exact, so one reverse sweep seeded with residual component 0 of every observation
gives row 0 of every block, and one more gives row 1 (the compressed Jacobian a sparse AD tool
would compute by colouring). Nothing is differentiated by hand.
"""
import numpy as np

import tapeflow as tf

from .runs import measured

N_CAM = 11


def rotate(r0, r1, r2, x0, x1, x2):
    """x rotated by the Rodrigues vector r (to first order when r is zero)."""
    sqtheta = r0 * r0 + r1 * r1 + r2 * r2
    if sqtheta != 0.0:
        theta = np.sqrt(sqtheta)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        w0 = r0 / theta
        w1 = r1 / theta
        w2 = r2 / theta
        tmp = (w0 * x0 + w1 * x1 + w2 * x2) * (1.0 - costheta)
        p0 = x0 * costheta + (w1 * x2 - w2 * x1) * sintheta + w0 * tmp
        p1 = x1 * costheta + (w2 * x0 - w0 * x2) * sintheta + w1 * tmp
        p2 = x2 * costheta + (w0 * x1 - w1 * x0) * sintheta + w2 * tmp
    else:
        p0 = x0 + (r1 * x2 - r2 * x1)
        p1 = x1 + (r2 * x0 - r0 * x2)
        p2 = x2 + (r0 * x1 - r1 * x0)
    return p0, p1, p2


def reprojection_errors(cams, X, w, obs, feats):
    """Row k: observation k's weighted reprojection error (camera obs[k, 0] sees point
    obs[k, 1]): rotate into the camera, divide by depth, distort radially, scale and shift."""
    p = w.shape[0]
    err = np.zeros((p, 2))
    for k in range(p):
        c = int(obs[k, 0])
        j = int(obs[k, 1])
        p0, p1, p2 = rotate(cams[c, 0], cams[c, 1], cams[c, 2], X[j, 0] - cams[c, 3],
                            X[j, 1] - cams[c, 4], X[j, 2] - cams[c, 5])
        u = p0 / p2
        v = p1 / p2
        rsq = u * u + v * v
        distortion = 1.0 + cams[c, 9] * rsq + cams[c, 10] * rsq * rsq
        err[k, 0] = w[k] * (u * distortion * cams[c, 6] + cams[c, 7] - feats[k, 0])
        err[k, 1] = w[k] * (v * distortion * cams[c, 6] + cams[c, 8] - feats[k, 1])
    return err


def weight_errors(w):
    return 1.0 - w * w


def ba_objective(cams, X, w, obs, feats):
    return reprojection_errors(cams, X, w, obs, feats), weight_errors(w)


def seeded_reprojection(cams, X, w, obs, feats, seed):
    """sum_k seed_k . err_k: its gradient is the seed pulled back through every block."""
    return np.sum(reprojection_errors(cams, X, w, obs, feats) * seed)


def seeded_weights(w, seed):
    return np.sum(weight_errors(w) * seed)


def ba_jacobian(reprojection_pullback, weight_pullback, cams, X, w, obs, feats):
    """The Jacobian in the eval's sparse layout: (row starts, columns, values), the 2p
    reprojection rows first (15 entries each: camera, point, weight), then the p weight rows."""
    n, m, p = cams.shape[0], X.shape[0], w.shape[0]
    # observation k gets camera and point rows of its own (row k): the blocks stay apart
    cam, point, own = cams[obs[:, 0]], X[obs[:, 1]], np.stack([np.arange(p)] * 2, axis=1)
    # the output arrays are allocated once and the blocks written into views of them: at ba14
    # they are 300 MB each, and concatenating them afterwards was most of the Jacobian's time
    block = 2 * (N_CAM + 4)
    all_vals = np.empty(block * p + p)
    all_cols = np.empty(block * p + p, dtype=np.int64)
    vals = all_vals[:block * p].reshape(p, 2, N_CAM + 4)
    for row in range(2):
        seed = np.zeros((p, 2))
        seed[:, row] = 1.0
        dcam, dpoint, dw = reprojection_pullback(cam, point, w, own, feats, seed)
        vals[:, row, :N_CAM] = dcam
        vals[:, row, N_CAM:N_CAM + 3] = dpoint
        vals[:, row, N_CAM + 3] = dw
    cols = all_cols[:block * p].reshape(p, 2, N_CAM + 4)
    cols[:, :, :N_CAM] = (N_CAM * obs[:, 0])[:, None, None] + np.arange(N_CAM)
    cols[:, :, N_CAM:N_CAM + 3] = (N_CAM * n + 3 * obs[:, 1])[:, None, None] + np.arange(3)
    cols[:, :, N_CAM + 3] = (N_CAM * n + 3 * m + np.arange(p))[:, None]
    all_cols[block * p:] = N_CAM * n + 3 * m + np.arange(p)
    all_vals[block * p:] = weight_pullback(w, np.ones(p))
    rows = np.concatenate([np.arange(2 * p + 1) * (N_CAM + 4),
                           block * p + np.arange(1, p + 1)])
    return rows, all_cols, all_vals


def prepare(input):
    n, m, p = int(input["n"]), int(input["m"]), int(input["p"])
    cams = np.tile(np.array(input["cam"], dtype=np.float64), (n, 1))
    X = np.tile(np.array(input["x"], dtype=np.float64), (m, 1))
    w = np.full(p, float(input["w"]))
    obs = np.stack([np.arange(p) % n, np.arange(p) % m], axis=1)
    feats = np.tile(np.array(input["feat"], dtype=np.float64), (p, 1))
    return cams, X, w, obs, feats


def objective_output(out):
    err, werr = out
    return {"reproj_error": {"elements": err[0].tolist(), "repeated": int(err.shape[0])},
            "w_err": {"element": float(werr[0]), "repeated": int(werr.shape[0])}}


def jacobian_output(out):
    """Only the first 30 entries and the last of each list (the eval's README)."""
    head = 2 * (N_CAM + 4)
    return {name: a[:head].tolist() + a[-1:].tolist()
            for name, a in zip(("rows", "cols", "vals"), out)}


def functions(backend="native"):
    """(objective, jacobian) as the tool runs them: the derivatives on ``backend``; the tests
    use "python" (the same generated code, without LLVM's compile time)."""
    reprojection_pullback = tf.grad(seeded_reprojection, argnums=(0, 1, 2), backend=backend)
    weight_pullback = tf.grad(seeded_weights, backend=backend)

    def jacobian(*args):
        return ba_jacobian(reprojection_pullback, weight_pullback, *args)
    primal = tf.jit(ba_objective) if backend == "native" else ba_objective
    return (measured(primal, prepare, objective_output),
            measured(jacobian, prepare, jacobian_output))


objective, jacobian = functions()
