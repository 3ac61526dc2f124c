"""GradBench ``ht``: ADBench's hand tracking. theta (26 numbers: global rotation, global
translation, then the finger joints) poses a skinned hand model; the output is the
difference between each observed point and its vertex (``simple``: ``us`` is empty) or its
point on a triangle at barycentric coordinates ``us`` (``complicated``).

Posing: each bone's Euler angles give a rotation, bone i's relative transform is
base_relatives[i] times it, the absolute transforms follow the parent chain, every vertex is
the weighted sum of its base position under each bone's transform (times the inverse base
absolute), mirrored if the model says so, then rotated by the global angle-axis rotation and
translated.

The Jacobian: 26 theta columns by forward mode (``tf.jacfwd``). In the complicated variant it
has two more columns first: residual i depends on its own us[i] only, so one ``tf.jvp`` along
"every u_i0" (and one along every u_i1) gives each row's derivative by its own u.
"""
import numpy as np

import tapeflow as tf

from .runs import measured


def euler_rotation(tx, ty, tz):
    """Rz(tz) Ry(ty) Rx(tx)."""
    cx, sx, cy, sy, cz, sz = np.cos(tx), np.sin(tx), np.cos(ty), np.sin(ty), np.cos(tz), np.sin(tz)
    R = np.zeros((3, 3))
    R[0, 0] = cz * cy
    R[0, 1] = cz * sy * sx - sz * cx
    R[0, 2] = cz * sy * cx + sz * sx
    R[1, 0] = sz * cy
    R[1, 1] = sz * sy * sx + cz * cx
    R[1, 2] = sz * sy * cx - cz * sx
    R[2, 0] = -sy
    R[2, 1] = cy * sx
    R[2, 2] = cy * cx
    return R


def angle_axis_rotation(a0, a1, a2):
    norm = np.sqrt(a0 * a0 + a1 * a1 + a2 * a2)
    R = np.zeros((3, 3))
    if norm < 0.0001:
        R[0, 0] = 1.0
        R[1, 1] = 1.0
        R[2, 2] = 1.0
    else:
        x = a0 / norm
        y = a1 / norm
        z = a2 / norm
        s = np.sin(norm)
        c = np.cos(norm)
        R[0, 0] = x * x + (1.0 - x * x) * c
        R[0, 1] = x * y * (1.0 - c) - z * s
        R[0, 2] = x * z * (1.0 - c) + y * s
        R[1, 0] = x * y * (1.0 - c) + z * s
        R[1, 1] = y * y + (1.0 - y * y) * c
        R[1, 2] = y * z * (1.0 - c) - x * s
        R[2, 0] = x * z * (1.0 - c) - y * s
        R[2, 1] = z * y * (1.0 - c) + x * s
        R[2, 2] = z * z + (1.0 - z * z) * c
    return R


def pose_angles(theta, bones):
    """Row b + 3: the (x, z, y) Euler angles of bone b (rows 0-2: rotation, scale, translation
    in the original layout; bones without parameters stay at zero)."""
    pose = np.zeros((bones + 3, 3))
    t = 6
    row = 5
    for finger in range(5):
        for joint in range(3):
            pose[row, 0] = theta[t]
            t += 1
            if joint == 0:
                pose[row, 1] = theta[t]
                t += 1
            row += 1
        row += 1
    return pose


def posed_vertices(theta, parents, base_relatives, inverse_base_absolutes, base_positions,
                   weights, mirrored):
    """The skinned, globally transformed vertices, one row each."""
    bones = parents.shape[0]
    pose = pose_angles(theta, bones)
    absolutes = np.zeros((bones, 4, 4))
    vertices = np.zeros((base_positions.shape[0], 3))
    for b in range(bones):
        posed = np.zeros((4, 4))
        posed[:3, :3] = euler_rotation(pose[b + 3, 0], pose[b + 3, 2], pose[b + 3, 1])
        posed[3, 3] = 1.0
        relative = base_relatives[b] @ posed
        parent = int(parents[b])
        if parent == -1:
            absolutes[b] = relative
        else:
            absolutes[b] = absolutes[parent] @ relative
        transform = absolutes[b] @ inverse_base_absolutes[b]
        moved = base_positions @ transform.T
        vertices = vertices + moved[:, :3] * weights[:, b:b + 1]
    if mirrored:
        vertices[:, 0] = -vertices[:, 0]
    R = angle_axis_rotation(theta[0], theta[1], theta[2])
    return vertices @ R.T + theta[3:6]


def ht_simple(theta, parents, base_relatives, inverse_base_absolutes, base_positions, weights,
              mirrored, correspondences, points):
    vertices = posed_vertices(theta, parents, base_relatives, inverse_base_absolutes,
                              base_positions, weights, mirrored)
    n = points.shape[0]
    err = np.zeros((n, 3))
    for i in range(n):
        v = int(correspondences[i])
        for j in range(3):
            err[i, j] = points[i, j] - vertices[v, j]
    return err


def ht_complicated(theta, us, parents, base_relatives, inverse_base_absolutes, base_positions,
                   weights, mirrored, correspondences, points, triangles):
    vertices = posed_vertices(theta, parents, base_relatives, inverse_base_absolutes,
                              base_positions, weights, mirrored)
    n = points.shape[0]
    err = np.zeros((n, 3))
    for i in range(n):
        t = int(correspondences[i])
        a = int(triangles[t, 0])
        b = int(triangles[t, 1])
        c = int(triangles[t, 2])
        for j in range(3):
            on_hand = us[i, 0] * vertices[a, j] + us[i, 1] * vertices[b, j] + \
                (1.0 - us[i, 0] - us[i, 1]) * vertices[c, j]
            err[i, j] = points[i, j] - on_hand
    return err


def prepare(input):
    data = input["data"]
    model = data["model"]
    as_float = lambda v: np.array(v, dtype=np.float64)   # noqa: E731
    model_args = (np.array(model["parents"], dtype=np.int64), as_float(model["base_relatives"]),
                  as_float(model["inverse_base_absolutes"]), as_float(model["base_positions"]),
                  as_float(model["weights"]), bool(model["is_mirrored"]))
    us = as_float(input["us"]).reshape(-1, 2)
    return (as_float(input["theta"]), us, model_args,
            np.array(data["correspondences"], dtype=np.int64), as_float(data["points"]),
            np.array(model["triangles"], dtype=np.int64).reshape(-1, 3))


def functions(backend="native"):
    """(objective, jacobian) as the tool runs them: the derivatives on ``backend``; the tests
    use "python" (the same generated code, without LLVM's compile time)."""
    native = backend == "native"
    simple = tf.jit(ht_simple) if native else ht_simple
    complicated = tf.jit(ht_complicated) if native else ht_complicated
    simple_theta = tf.jacfwd(ht_simple, backend=backend)
    complicated_theta = tf.jacfwd(ht_complicated, backend=backend)

    def objective(theta, us, model, correspondences, points, triangles):
        if us.shape[0] == 0:
            return simple(theta, *model, correspondences, points)
        return complicated(theta, us, *model, correspondences, points, triangles)

    def jacobian(theta, us, model, correspondences, points, triangles):
        """Rows: the residuals in order (point i, coordinate j); columns: [d/du_i0, d/du_i1]
        (complicated only), then d/dtheta."""
        n = points.shape[0]
        if us.shape[0] == 0:
            return simple_theta(theta, *model, correspondences, points).reshape(3 * n, -1)
        args = (theta, us, *model, correspondences, points, triangles)
        columns = []
        for k in range(2):
            direction = np.zeros_like(us)
            direction[:, k] = 1.0
            tangents = (np.zeros_like(theta), direction) + (None,) * (len(args) - 2)
            _, column = tf.jvp(ht_complicated, args, tangents, backend=backend)
            columns.append(column.reshape(3 * n, 1))
        return np.concatenate(columns + [complicated_theta(*args).reshape(3 * n, -1)], axis=1)
    return (measured(objective, prepare, lambda err: err.ravel().tolist()),
            measured(jacobian, prepare, lambda J: J.tolist()))


objective, jacobian = functions()
