"""Products and matrix structure: matmul, dot, outer, tensordot, kron, cross, trace, diagonals,
triangles, and the inverse/determinant/solve family of np.linalg.

Rules are straight-line numpy (the compiler inlines them as templates, where only assignments and
``np.ndim`` branches survive), so parameter-dependent choices are conditional expressions and the
axis bookkeeping is done with np.arange/np.setdiff1d instead of loops.
"""
import numpy as np
import operator

from .decompositions import on_tensors
from .helpers import sum_to_shape, unbroadcast
from .table import define, linear, multilinear, primitive, tangent


@primitive("MatMul", np.matmul, operator.matmul, n_inputs=2, native="matmul",
           grid=(("v", "v"), ("m", "v"), ("w", "m"), ("q", "m"), ("t", "v"), ("w", "t"),
                 ("t", "n"), ("t", "u"), ("b", "t"), ("m", "u")))
def d_matmul(g, ans, x, y):
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return g * y, g * x
    if np.ndim(x) <= 2 and np.ndim(y) <= 2:
        if np.ndim(x) == 1:
            return np.dot(y, g), np.outer(x, g)
        if np.ndim(y) == 1:
            return np.outer(g, y), np.dot(g, x)
        return np.dot(g, np.transpose(y)), np.dot(np.transpose(x), g)
    # batched: the last two axes multiply, leading axes broadcast; a 1-d operand is a row
    # (left) or a column (right) that numpy adds and removes again
    if np.ndim(x) == 1:
        g2 = np.expand_dims(g, -2)
        return (unbroadcast(np.matmul(g2, np.swapaxes(y, -1, -2))[..., 0, :], x),
                unbroadcast(np.expand_dims(x, -1) * g2, y))
    if np.ndim(y) == 1:
        g2 = np.expand_dims(g, -1)
        return (unbroadcast(g2 * y, x),
                unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g2)[..., 0], y))
    return (unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x),
            unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y))


multilinear("MatMul")


@primitive("Dot", np.dot, n_inputs=2, methods=("dot",), native="matmul",
           grid=(("v", "v"), ("m", "v"), ("w", "m"), ("q", "m"), ("t", "v"), ("s", "m"),
                 ("w", "t"), ("t", "u"), ("m", "u"), ("t", "n"), ("m", "s")))
def d_dot(g, ans, x, y):
    # numpy's dot: a scalar scales; otherwise the last axis of x meets the second-to-last of y
    # (the only axis of a 1-d y): dot(a, b)[i, j, k, m] = sum(a[i, j, :] * b[k, :, m])
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x), unbroadcast(g * x, y)
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return g * y, g * x
    if np.ndim(x) <= 2 and np.ndim(y) <= 2:
        if np.ndim(x) == 1:
            return np.dot(y, g), np.outer(x, g)
        if np.ndim(y) == 1:
            return np.outer(g, y), np.dot(g, x)
        return np.dot(g, np.transpose(y)), np.dot(np.transpose(x), g)
    lead = list(range(np.ndim(x) - 1))     # x's free axes, the first axes of g
    if np.ndim(y) == 1:
        return np.tensordot(g, y, axes=0), np.tensordot(x, g, axes=(lead, lead))
    rest = list(range(np.ndim(x) - 1, np.ndim(g)))      # y's free axes in g
    y_free = list(range(np.ndim(y) - 2)) + [np.ndim(y) - 1]
    return (np.tensordot(g, y, axes=(rest, y_free)),
            np.moveaxis(np.tensordot(x, g, axes=(lead, lead)), 0, -2))


multilinear("Dot")


@primitive("Outer", np.outer, n_inputs=2, role="shape", native="outer",
           grid=(("v", "w"), ("m", "v"), ("s", "w"), ("v", "t")))
def d_outer(g, ans, x, y):
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return np.dot(g, y), np.dot(x, g)
    # np.outer flattens both operands first
    return (np.reshape(np.dot(g, np.ravel(y)), np.shape(x)),
            np.reshape(np.dot(np.ravel(x), g), np.shape(y)))


multilinear("Outer")


@primitive("Tensordot", np.tensordot, n_inputs=2, role="shape",
           grid=(("m", "m", {"axes": 2}), ("t", "m", {"axes": ([1, 2], [0, 1])}),
                 ("m", "n", {"axes": 1}), ("w", "m", {"axes": 1}), ("v", "v", {"axes": 0}),
                 ("t", "t", {"axes": ([0, 2], [0, 2])}),
                 ("t", "q", {"axes": ([1], [1])}), ("m", "m", {"axes": ([1, 0], [1, 0])})))
def d_tensordot(g, ans, x, y, axes=2):
    nx = np.ndim(x)
    ny = np.ndim(y)
    # the contracted axes of each operand, paired in order, and the free ones (kept in order)
    ax = np.arange(nx - axes, nx) if isinstance(axes, int) else np.atleast_1d(axes[0]) % nx
    ay = np.arange(0, axes) if isinstance(axes, int) else np.atleast_1d(axes[1]) % ny
    fx = np.setdiff1d(np.arange(nx), ax)
    fy = np.setdiff1d(np.arange(ny), ay)
    # g's axes are x's free axes, then y's; what tensordot leaves of the other operand keeps
    # that operand's axis order, so it pairs with the contracted axes sorted by that order
    gx = np.tensordot(g, y, axes=(np.arange(len(fx), len(fx) + len(fy)), fy))
    gy = np.tensordot(x, g, axes=(fx, np.arange(len(fx))))
    return (np.transpose(gx, np.argsort(np.concatenate([fx, ax[np.argsort(ay)]]))),
            np.transpose(gy, np.argsort(np.concatenate([ay[np.argsort(ax)], fy]))))


multilinear("Tensordot")


@primitive("Kron", np.kron, n_inputs=2,
           grid=(("v", "w"), ("m", "q"), ("m", "v"), ("s", "m"), ("c", "r")))
def d_kron(g, ans, x, y):
    # kron(a, b)[i * p + k, j * q + l] = a[i, j] * b[k, l] (shapes padded with leading ones to a
    # common rank): g reshaped to (m, p, n, q, ...) pairs each axis of a with one of b
    nd = max(np.ndim(x), np.ndim(y))
    sx = (1,) * (nd - np.ndim(x)) + np.shape(x)
    sy = (1,) * (nd - np.ndim(y)) + np.shape(y)
    ones = (1,) * nd
    g4 = np.reshape(g, np.ravel(np.stack([sx, sy], axis=1)))
    x4 = np.reshape(x, np.ravel(np.stack([sx, ones], axis=1)))
    y4 = np.reshape(y, np.ravel(np.stack([ones, sy], axis=1)))
    return (np.reshape(np.sum(g4 * y4, axis=tuple(range(1, 2 * nd, 2))), np.shape(x)),
            np.reshape(np.sum(g4 * x4, axis=tuple(range(0, 2 * nd, 2))), np.shape(y)))


multilinear("Kron")


@primitive("Cross", np.cross, n_inputs=2,
           grid=(("w", "w"), ("q", "w"), ("m", "m", {"axis": 0}), ("q", "q", {"axisa": 0}),
                 ("t", "t", {"axisa": 1, "axisb": 1, "axisc": 0})))
def d_cross(g, ans, x, y, axisa=-1, axisb=-1, axisc=-1, axis=None):
    # c = a x b is linear in each: <g, a x b> = <b x g, a> = <g x a, b>, each taken along the
    # vector axes where that operand and g keep them
    ax = axis if isinstance(axis, int) else axisa      # (axis, when given, overrides all three)
    ay = axis if isinstance(axis, int) else axisb
    ac = axis if isinstance(axis, int) else axisc
    return (unbroadcast(np.cross(y, g, axisa=ay, axisb=ac, axisc=ax), x),
            unbroadcast(np.cross(g, x, axisa=ac, axisb=ax, axisc=ay), y))


multilinear("Cross")


@primitive("Trace", np.trace, methods=("trace",), role="shape",
           grid=(("q",), ("m",), ("m", {"offset": 1}), ("m", {"offset": -1}),
                 ("t", {"axis1": 1, "axis2": 2}), ("t", {"offset": 1, "axis1": 2, "axis2": 0})))
def d_trace(g, ans, x, offset=0, axis1=0, axis2=1):
    n = np.shape(x)[axis1]
    m = np.shape(x)[axis2]
    # g on the chosen diagonal of the (axis1, axis2) planes, which numpy moved to the end
    spread = np.expand_dims(g, (-2, -1)) * np.eye(n, m, k=offset)
    return np.moveaxis(spread, (-2, -1), (axis1, axis2))


linear("Trace")


@primitive("Diagonal", np.diagonal, methods=("diagonal",), role="shape",
           grid=(("q",), ("m",), ("m", {"offset": 2}), ("m", {"offset": -1}),
                 ("t", {"axis1": 1, "axis2": 2}), ("t", {"offset": -1, "axis1": 2, "axis2": 0})))
def d_diagonal(g, ans, x, offset=0, axis1=0, axis2=1):
    n = np.shape(x)[axis1]
    m = np.shape(x)[axis2]
    # one (n, m) one-hot plane per diagonal element; g (its last axis) weights them
    rows = np.arange(np.shape(ans)[-1]) + max(-offset, 0)
    planes = np.reshape(np.eye(n * m)[rows * m + rows + offset], (-1, n, m))
    return np.moveaxis(np.tensordot(g, planes, axes=1), (-2, -1), (axis1, axis2))


linear("Diagonal")


@primitive("Diag", np.diag, role="shape",
           grid=(("v",), ("v", 1), ("w", {"k": -2}), ("q",), ("m", {"k": 1}), ("m", {"k": -2})))
def d_diag(g, ans, x, k=0):
    if np.ndim(x) == 1:     # the vector was put on the k-th diagonal: read it back
        return np.diagonal(g, k)
    n = np.shape(x)[0]
    m = np.shape(x)[1]
    rows = np.arange(np.shape(ans)[0]) + max(-k, 0)
    return np.reshape(np.dot(g, np.eye(n * m)[rows * m + rows + k]), (n, m))


linear("Diag")


@primitive("Tril", np.tril, role="shape",
           grid=(("m",), ("q", {"k": -1}), ("m", {"k": 1}), ("t",), ("v",)))
def d_tril(g, ans, x, k=0):
    # a mask on the last two axes (a 1-d input was repeated as the rows of a matrix)
    return sum_to_shape(np.tril(g, k), np.shape(x))


linear("Tril")


@primitive("Triu", np.triu, role="shape",
           grid=(("m",), ("q", {"k": 1}), ("m", {"k": -1}), ("t",), ("v",)))
def d_triu(g, ans, x, k=0):
    return sum_to_shape(np.triu(g, k), np.shape(x))


linear("Triu")


# --- einsum ---------------------------------------------------------------------------------------
@primitive("Einsum", n_inputs=-1)  # tf.einsum's record (any explicit equation): by name
def d_einsum(g, ans, *xs, equation=None):
    # the plan's adjoint equations put g on the diagonal of a repeated index ('ii->', 'bxby->bxy')
    _, adjoint_eqs, ties = einsum_plan(equation, *xs)
    return tuple(np.einsum(adjoint_eqs[i], g, *(xs[:i] + xs[i + 1:]), *ties[i])
                 for i in range(len(xs)))


@tangent("Einsum")
def f_einsum(*args, equation=None):
    # (*tangents, ans, *operands): linear in each operand, so operand i's term is the einsum
    # with that operand replaced by its tangent
    n = (len(args) - 1) // 2
    dots, xs = args[:n], args[n + 1:]
    return tuple(np.einsum(equation, *(xs[:i] + (dots[i],) + xs[i + 1:])) for i in range(n))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum_plan(subscripts, *operands):
    """For ``np.einsum(subscripts, *operands)``: (the explicit equation with the ellipsis spelled
    out, one adjoint equation per operand, the extra operands each adjoint takes).

    The adjoint of operand i is an einsum of g with the other operands. An index of operand i
    that appears in them (or in the output) the first time it appears in operand i is an output
    index of the adjoint; every other position gets a fresh index tied to its own by an identity
    matrix: that puts the adjoint on the diagonal of a repeated index ('ii->') and spreads it over
    an index that was summed inside operand i alone ('ij->i').
    """
    eq = subscripts.replace(" ", "")
    ins, arrow, out = eq.partition("->")
    specs = ins.split(",")
    unused = [c for c in _LETTERS if c not in eq]
    # the ellipsis stands for the same trailing-aligned letters in every operand
    widths = [np.ndim(op) - len(s) + 3 for s, op in zip(specs, operands) if "..." in s]
    n_ell = max(widths) if widths else 0
    ell = "".join(unused[:n_ell])
    unused = unused[n_ell:]
    specs = [s.replace("...", ell[n_ell - (np.ndim(op) - len(s) + 3):]) if "..." in s else s
             for s, op in zip(specs, operands)]
    if arrow:
        out = out.replace("...", ell)
    else:    # numpy's implicit output: the ellipsis, then the indices seen once, sorted
        joined = "".join(specs)
        out = ell + "".join(sorted(c for c in set(joined) - set(ell) if joined.count(c) == 1))
    sizes = {}
    for s, op in zip(specs, operands):
        for c, n in zip(s, np.shape(op)):
            sizes[c] = max(sizes.get(c, 1), n)
    adjoints, extras = [], []
    for i, spec in enumerate(specs):
        others = specs[:i] + specs[i + 1:]
        seen = set(out).union(*others)
        result, ties, tie_ops = "", [], []
        for t, c in enumerate(spec):
            if c in seen and c not in spec[:t]:
                result += c
            else:
                fresh = unused[t]
                result += fresh
                ties.append(c + fresh)
                tie_ops.append(np.eye(sizes[c]))
        adjoints.append(",".join([out] + others + ties) + "->" + result)
        extras.append(tuple(tie_ops))
    return ",".join(specs) + "->" + out, tuple(adjoints), tuple(extras)


def sublist_subscripts(*sublists):
    """np.einsum's sublist form (operand, [0, 1], operand, [1, 2], [0, 2]) as a subscripts string:
    the index lists of the operands, then the output's (None: implicit)."""
    *ins, out = sublists
    spell = ["".join(_LETTERS[k] for k in s) for s in ins]
    return ",".join(spell) + ("" if out is None else "->" + "".join(_LETTERS[k] for k in out))


def einsum_operands(subscripts, y):
    """How many operands a sublist-form call has (1 or 2); 0 for the subscripts-string form."""
    if isinstance(subscripts, str):
        return 0
    return 1 if y is None or isinstance(y, (list, tuple)) else 2


define("EinsumPlan", einsum_plan, kind="nondiff")
define("EinsumOperands", einsum_operands, kind="nondiff", role="int")
define("SublistSubscripts", sublist_subscripts, kind="nondiff")


# np.einsum is a composite (linalg_composites.py) of these, one per number of operands, the plan
# a parameter: the compiler's templates take a fixed number of inputs
@on_tensors
def einsum_one(x, plan):
    return np.einsum(plan[0], x)


@on_tensors
def einsum_two(x, y, plan):
    return np.einsum(plan[0], x, y)


@on_tensors
def einsum_three(x, y, z, plan):
    return np.einsum(plan[0], x, y, z)


@primitive("EinsumOne", einsum_one, role="shape")
def d_einsum_one(g, ans, x, plan=None):
    return sum_to_shape(np.einsum(plan[1][0], g, *plan[2][0]), np.shape(x))


linear("EinsumOne")


@primitive("EinsumTwo", einsum_two, n_inputs=2, role="shape")
def d_einsum_two(g, ans, x, y, plan=None):
    # sum_to_shape: an ellipsis may broadcast a length-1 axis
    return (sum_to_shape(np.einsum(plan[1][0], g, y, *plan[2][0]), np.shape(x)),
            sum_to_shape(np.einsum(plan[1][1], g, x, *plan[2][1]), np.shape(y)))


multilinear("EinsumTwo")


@primitive("EinsumThree", einsum_three, n_inputs=3, role="shape")
def d_einsum_three(g, ans, x, y, z, plan=None):
    return (sum_to_shape(np.einsum(plan[1][0], g, y, z, *plan[2][0]), np.shape(x)),
            sum_to_shape(np.einsum(plan[1][1], g, x, z, *plan[2][1]), np.shape(y)),
            sum_to_shape(np.einsum(plan[1][2], g, x, y, *plan[2][2]), np.shape(z)))


multilinear("EinsumThree")


# --- np.linalg: inverse, determinant, solve ------------------------------------------------------
@primitive("MatrixInverse", np.linalg.inv, domain="spd", grid=(("q",), ("b",)))
def d_matrix_inverse(g, ans, x):
    ans_t = np.swapaxes(ans, -1, -2)
    return -np.matmul(ans_t, np.matmul(g, ans_t))


@tangent("MatrixInverse")
def f_matrix_inverse(x_dot, ans, x):
    return -np.matmul(ans, np.matmul(x_dot, ans))


@primitive("MatrixDeterminant", np.linalg.det, role="shape", domain="spd", grid=(("q",), ("b",)))
def d_matrix_determinant(g, ans, x):
    # d det(A) = det(A) tr(A^-1 dA)
    return np.expand_dims(np.expand_dims(g * ans, -1), -1) * np.swapaxes(np.linalg.inv(x), -1, -2)


@tangent("MatrixDeterminant")
def f_matrix_determinant(x_dot, ans, x):
    # d det(A) = det(A) tr(A^-1 dA)
    return ans * np.trace(np.linalg.solve(x, x_dot), axis1=-2, axis2=-1)


@primitive("MatrixSolve", np.linalg.solve, n_inputs=2, role="shape", domain="spd",
           grid=(("q", "w"), ("q", "q"), ("b", "w"), ("b", "b"), ("q", np.ones((3, 4)))))
def d_solve(g, ans, a, b):
    # x = A^-1 b: db = A^-T g, dA = -db x^T (b a vector when it is 1-d, as in numpy 2)
    a_t = np.swapaxes(a, -1, -2)
    if np.ndim(b) == 1:
        gb = np.linalg.solve(a_t, np.expand_dims(g, -1))[..., 0]
        return (unbroadcast(-np.expand_dims(gb, -1) * np.expand_dims(ans, -2), a),
                unbroadcast(gb, b))
    gb = np.linalg.solve(a_t, g)
    return unbroadcast(-np.matmul(gb, np.swapaxes(ans, -1, -2)), a), unbroadcast(gb, b)


@tangent("MatrixSolve")
def f_solve(a_dot, b_dot, ans, a, b):
    # A x = b: A dx = db - dA x (b a vector when it is 1-d, as in numpy 2)
    if np.ndim(b) == 1:
        return (-np.linalg.solve(a, np.matmul(a_dot, np.expand_dims(ans, -1)))[..., 0],
                np.linalg.solve(a, np.expand_dims(b_dot, -1))[..., 0])
    return -np.linalg.solve(a, np.matmul(a_dot, ans)), np.linalg.solve(a, b_dot)


@primitive("Pinv", np.linalg.pinv, grid=(("m",), ("q",), ("n",), ("b",)))
def d_pinv(g, ans, x):
    # Golub & Pereyra (constant rank): with P = A+ (n x m),
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P
    p_t = np.swapaxes(ans, -1, -2)
    g_t = np.swapaxes(g, -1, -2)
    left = np.eye(np.shape(x)[-2]) - np.matmul(x, ans)     # I - A P  (m x m)
    right = np.eye(np.shape(x)[-1]) - np.matmul(ans, x)    # I - P A  (n x n)
    return (-np.matmul(p_t, np.matmul(g, p_t))
            + np.matmul(left, np.matmul(g_t, np.matmul(ans, p_t)))
            + np.matmul(np.matmul(p_t, ans), np.matmul(g_t, right)))


@tangent("Pinv")
def f_pinv(x_dot, ans, x):
    # the derivative of Golub & Pereyra (constant rank), applied to dA
    d_t = np.swapaxes(x_dot, -1, -2)
    p_t = np.swapaxes(ans, -1, -2)
    left = np.eye(np.shape(x)[-2]) - np.matmul(x, ans)
    right = np.eye(np.shape(x)[-1]) - np.matmul(ans, x)
    return (-np.matmul(ans, np.matmul(x_dot, ans))
            + np.matmul(np.matmul(ans, p_t), np.matmul(d_t, left))
            + np.matmul(right, np.matmul(d_t, np.matmul(p_t, ans))))
