"""``tf.autodiff.ForwardAccumulator``: Jacobian-vector products, from the reverse-mode rules.

There are no forward-mode (JVP) rules: a JVP is obtained from reverse mode by linearity. For a
target y, ``g(u) = (dy/dx)^T u`` is linear in u, so ``jvp = d/du <g(u), tangents>``. The
accumulator records like a persistent tape while active; ``jvp(y)`` differentiates the recorded
vector-Jacobian product with respect to ``u`` on a second tape. Because the accumulator's tape is
active while a ``GradientTape.gradient`` runs inside it, that gradient computation is recorded too,
which gives forward-over-backward Hessian-vector products: ``acc.jvp(tape.gradient(y, x))``.
"""
import logging

import numpy as np

from . import nest
from .tape import GradientTape, UnconnectedGradients, _unconnected_value, _value_of, _key
from .tensor import Tensor

__all__ = ["ForwardAccumulator"]

_log = logging.getLogger("tapeflow")


class ForwardAccumulator:
    def __init__(self, primals, tangents):
        self._primals = nest.flatten(primals)
        flat_t = nest.flatten(tangents)
        if len(flat_t) != len(self._primals):
            raise ValueError("primals and tangents must have the same structure")
        seen = set()
        for p in self._primals:
            if _key(p) in seen:
                raise ValueError("Tensor {} was specified as a primal multiple times. This may "
                                 "indicate an error. If it was intended, please sum the "
                                 "corresponding tangents.")
            seen.add(_key(p))
        self._tangents = []
        for p, t in zip(self._primals, flat_t):
            pv = _value_of(p)
            if pv.dtype.kind not in "fc":
                _log.warning("The dtype of the watched primal must be floating (e.g. tf.float32), "
                             "got tf.%s", pv.dtype.name)
            tv = np.asarray(t._v if isinstance(t, Tensor) else _value_of(t) if hasattr(t, "_handle")
                            else t, dtype=pv.dtype)
            if tv.shape != np.shape(pv):
                raise ValueError(f"Tangent shape {tv.shape} does not match primal shape "
                                 f"{np.shape(pv)}")
            self._tangents.append(Tensor(tv[()] if tv.ndim == 0 else tv))
        self._tape = GradientTape(persistent=True, watch_accessed_variables=False)
        self._entered = False

    def __enter__(self):
        if self._tape._recording:
            raise ValueError("Accumulator is already recording.")
        self._tape.__enter__()
        if not self._entered:
            self._tape.watch(self._primals)
            self._entered = True
        return self

    def __exit__(self, *exc):
        return self._tape.__exit__(*exc)

    def jvp(self, primals, unconnected_gradients=UnconnectedGradients.NONE):
        """The JVP of each given tensor (structure preserved): None (or zeros) if none."""
        unconnected = _unconnected_value(unconnected_gradients)
        return nest.pack_like(primals, [self._jvp_one(t, unconnected)
                                        for t in nest.flatten(primals)])

    def _jvp_one(self, target, unconnected):
        tv = _value_of(target)
        for p, tan in zip(self._primals, self._tangents):
            if _key(p) == _key(target):
                return tan
        recording = self._tape._recording
        if recording:
            self._tape._pop()  # a lookup: not itself recorded by this accumulator
        try:
            return self._jvp_by_linearity(target, tv, unconnected)
        finally:
            if recording:
                self._tape._push()

    def _jvp_by_linearity(self, target, tv, unconnected):
        u = Tensor(np.zeros(tv.shape, dtype=tv.dtype)[()] if tv.ndim == 0 else
                   np.zeros(tv.shape, dtype=tv.dtype))
        with GradientTape() as outer:
            outer.watch(u)
            vjp = self._tape.gradient(target, self._primals, output_gradients=[u])
            total = None
            for g, tan in zip(vjp, self._tangents):
                if g is not None:
                    term = (g * tan)
                    from .math_ops import reduce_sum
                    term = reduce_sum(term)
                    total = term if total is None else total + term
        if total is None:
            return _zeros_like(tv) if unconnected == "zero" else None
        out = outer.gradient(total, u)
        if out is None:
            return _zeros_like(tv) if unconnected == "zero" else None
        return out


def _zeros_like(v):
    z = np.zeros(np.shape(v), dtype=v.dtype)
    return Tensor(z[()] if z.ndim == 0 else z)
