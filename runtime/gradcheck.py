"""Central-difference gradients, for checking any function's gradient (the tape's or your own)."""
import numpy as np

__all__ = ["numerical_gradient", "check_gradient"]


def _value(x):
    if hasattr(x, "_handle"):
        return np.array(x._handle.value, dtype=np.float64)
    if hasattr(x, "_v"):
        return np.array(x._v, dtype=np.float64)
    return np.array(x, dtype=np.float64)


def _scalar(y):
    return float(np.sum(_value(y)))


def numerical_gradient(f, *args, argnums=0, eps=1e-6):
    """d sum(f(*args)) / d args[argnums] by central differences, in float64.

    ``argnums`` may be an int or a tuple (then a tuple of gradients is returned). Arguments are
    passed to ``f`` as float64 numpy arrays (scalars as np.float64, a float subclass).
    """
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    base = [_value(a) for a in args]
    # what f receives: arrays, and 0-d values as np.float64 (a float subclass that keeps float64)
    call = [b if b.ndim else np.float64(b) for b in base]
    out = []
    for n in nums:
        x = base[n]
        g = np.zeros(x.shape)
        flat, gflat = x.reshape(-1).copy(), g.reshape(-1)
        for i in range(flat.size):
            vals = list(call)
            old = flat[i]
            flat[i] = old + eps
            vals[n] = flat.reshape(x.shape).copy() if x.ndim else np.float64(flat[0])
            hi = _scalar(f(*vals))
            flat[i] = old - eps
            vals[n] = flat.reshape(x.shape).copy() if x.ndim else np.float64(flat[0])
            lo = _scalar(f(*vals))
            flat[i] = old
            gflat[i] = (hi - lo) / (2 * eps)
        out.append(g if g.ndim else float(g))
    return tuple(out) if many else out[0]


def check_gradient(f, args, grads, rtol=1e-5, atol=1e-6, eps=1e-6):
    """Assert that ``grads`` (one per argument of ``f``) match central differences.

    Raises AssertionError naming the argument and the worst element when they do not; returns the
    numerical gradients otherwise.
    """
    args = tuple(args)
    grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
    if len(grads) != len(args):
        raise ValueError(f"check_gradient: {len(grads)} gradients for {len(args)} arguments")
    num = numerical_gradient(f, *args, argnums=tuple(range(len(args))), eps=eps)
    for i, (g, n) in enumerate(zip(grads, num)):
        if g is None:
            if np.any(n != 0):
                raise AssertionError(f"argument {i}: gradient is None but numerically {n}")
            continue
        gv = _value(g)
        if gv.shape != np.shape(n):
            raise AssertionError(f"argument {i}: gradient shape {gv.shape} != {np.shape(n)}")
        if not np.allclose(gv, n, rtol=rtol, atol=atol):
            err = np.abs(gv - n)
            j = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
            raise AssertionError(f"argument {i}: gradient {gv[j]} != numerical {np.asarray(n)[j]} "
                                 f"at index {j} (rtol={rtol}, atol={atol})")
    return num
