"""Ahead-of-time entries with results of any shape: array-valued functions, jvp and jacfwd.

    int32_t MOD_f(<args>, <value>)                                an array-valued function
    int32_t MOD_f_jvp(<args>, <tangents>, <value>, <tangent>)      value and J(args) @ tangents
    int32_t MOD_f_jacfwd(<args>, <one Jacobian per differentiated argument>)

* a result is a ``double *`` for a scalar; for an array of d dimensions it is two outputs,
  ``double **data`` and ``int64_t *shape`` (d extents): its shape is known only once the function
  has run, so the library allocates it (C-contiguous float64, malloc) and the caller releases it
  with MODULE_free. After a nonzero return nothing is allocated and ``*data`` is NULL;
* a tangent is passed as its argument is (same dtype; its shape is checked against the
  argument's, status 1 with a ValueError otherwise), one per differentiated argument;
* the Jacobian with respect to X has the result's shape followed by X's (JAX's layout). It is
  built one direction per call of the tangent code, a unit seed per element of X: natively one
  direction per sweep is the fastest today (compiler/transforms.py, CHUNK).

The tangent code's body (``jvp_f(*args, *tangents)`` returning ``(value, tangent)``, see
compiler/forward.py) is the JIT's: same lowering, same module-per-body layout as the gradients.
"""
from llvmlite import ir

from .. import typing as T
from . import types as L
from .aot import (ERR_RAISED, ERR_SHAPE, AotError, _acquire, _c, _Code, _convert, broadcast_strides,
                  _lock_global, _release, _report_raised, c_params, read_args)


class ForwardSpec:
    """One entry: ``mode`` is "value" (the function), "jvp" or "jacfwd"; ``wrt``: the indices
    of the differentiated arguments (the body takes one tangent per index, in order)."""

    def __init__(self, cname, args, mode, wrt=()):
        self.cname, self.args, self.mode, self.wrt = cname, tuple(args), mode, tuple(wrt)


def value_type(ti, mode):
    """The type of the function's value in a body typed as ``ti`` (refused: tuples, ints)."""
    vt = ti.ret if mode == "value" else ti.ret.items[0]
    if isinstance(vt, T.Tuple):
        raise AotError("a function returning a tuple is not exported with its value, jvp or "
                       "Jacobian yet; return one float or float array")
    if isinstance(vt, T.Array) and not vt.dtype.is_float:
        raise AotError(f"the function returns an array of {vt.dtype!r}: only float results "
                       "are exported")
    if not isinstance(vt, (T.Scalar, T.Array)):
        raise AotError(f"the function returns {vt!r}: only floats and float arrays are exported")
    return vt


def result_ndims(spec, ti):
    """Dimensions of each result the entry writes (0: a ``double *``)."""
    nd = getattr(value_type(ti, spec.mode), "ndim", 0)
    if spec.mode == "value":
        return [nd]
    if spec.mode == "jvp":
        return [nd, nd]
    return [nd + spec.args[i].ndim for i in spec.wrt]


def _out_params(ndims):
    return [p for nd in ndims for p in ([L.PTR, L.PTR] if nd else [L.PTR])]


def _prod(b, dims):
    n = _c(1)
    for d in dims:
        n = b.mul(n, d)
    return n


def _c_strides(b, dims, scale=None):
    """Element strides of a C-contiguous array of extents ``dims``, times ``scale``."""
    out, s = [None] * len(dims), scale or _c(1)
    for k in range(len(dims) - 1, -1, -1):
        out[k] = s
        s = b.mul(s, dims[k])
    return out


class _Entry:
    """Builder state of one entry: the code, its status and the buffers it allocated."""

    def __init__(self, mctx, fn, errfn):
        self.mctx, self.errfn = mctx, errfn
        self.code = _Code(mctx.module, fn)
        self.b = self.code.b
        self.status = L.alloca(self.b, L.I32)
        self.b.store(_c(0, L.I32), self.status)
        self.owned = []          # (alloca holding a malloc'd result, its output pointer)

    def alloca(self, ty):
        """A slot in the entry block: it dominates every use, wherever it is asked for."""
        with self.b.goto_block(self.code.fn.entry_basic_block):
            return L.alloca(self.b, ty)

    def ok(self):
        return self.b.icmp_signed("==", self.b.load(self.status, typ=L.I32), _c(0, L.I32))

    def fail(self, code, text, x=_c(0), y=_c(0), z=_c(0)):
        self.b.call(self.errfn, [self.code.cstring(text, "tf_aot_msg"), x, y, z])
        self.b.store(_c(code, L.I32), self.status)

    def malloc(self, nbytes):
        """A buffer of ``nbytes`` (at least 1: malloc(0) may be NULL); MemoryError if none."""
        b = self.b
        p = b.call(self.mctx.malloc(), [b.select(b.icmp_signed(">", nbytes, _c(0)), nbytes, _c(1))])
        with b.if_then(b.icmp_unsigned("==", p, ir.Constant(L.PTR, None))):
            self.fail(ERR_RAISED, "MemoryError: cannot allocate %lld bytes for a result", nbytes)
        return p

    def result(self, out_ptr):
        """An alloca for a result buffer the entry owns until it succeeds (NULL at first)."""
        slot = self.alloca(L.PTR)
        with self.b.goto_block(self.code.fn.entry_basic_block):
            self.b.store(ir.Constant(L.PTR, None), slot)
        self.owned.append((slot, out_ptr))
        return slot

    def finish(self):
        """On failure free what was allocated; hand the buffers to the caller (or NULLs)."""
        b = self.b
        with b.if_then(b.not_(self.ok())):
            for slot, _ in self.owned:
                b.call(self.mctx.free(), [b.load(slot, typ=L.PTR)])
                b.store(ir.Constant(L.PTR, None), slot)
        for slot, out in self.owned:
            b.store(b.load(slot, typ=L.PTR), out)

    def write(self, v, vt, shape, dst, strides):
        """Write ``v`` into float64 elements at ``dst`` with element ``strides`` over
        ``shape``: a scalar fills, an array broadcasts (extent 1), other extents fail."""
        b, code = self.b, self.code
        if isinstance(vt, T.Scalar):
            x = _convert(b, v, vt, L.F64)
            code.nest(shape, lambda idx: b.store(x, self._at(dst, idx, strides)))
            return
        if not isinstance(vt, T.Array) or vt.ndim != len(shape) or not vt.dtype.is_float:
            raise AotError(f"a result of type {vt!r} where {len(shape)} dimensions of floats "
                           "are written")
        bad, src = broadcast_strides(b, v, shape)
        with b.if_else(bad) as (mismatch, fine):
            with mismatch:
                self.fail(ERR_SHAPE, "ValueError: a tangent of extent %lld where the value has "
                                     "%lld (dimension 0 of %lld)",
                          v.shape[0], shape[0], _c(len(shape)))
            with fine:
                elt = L.elem_ll(vt.dtype)

                def one_element(idx):
                    x = b.load(self._at(v.data, idx, src, elt), typ=elt)
                    b.store(_convert(b, x, vt.dtype, L.F64), self._at(dst, idx, strides))
                code.nest(shape, one_element)

    def _at(self, base, idx, strides, elt=L.F64):
        off = _c(0)
        for i, s in zip(idx, strides):
            off = self.b.add(off, self.b.mul(i, s))
        return self.b.gep(base, [off], source_etype=elt)

    def array_result(self, v, vt, outs, extra_dims=()):
        """A freshly allocated result shaped like value ``v`` (then ``extra_dims``): writes its
        extents to the shape output; returns (buffer, extents)."""
        b = self.b
        data_out, shape_out = next(outs), next(outs)
        dims = (list(v.shape) if isinstance(vt, T.Array) else []) + list(extra_dims)
        for k, d in enumerate(dims):
            b.store(d, b.gep(shape_out, [_c(k)], source_etype=L.I64))
        slot = self.result(data_out)
        b.store(self.malloc(b.mul(_prod(b, dims), _c(8))), slot)
        return slot, dims


def emit_forward_wrapper(mctx, ti, body, spec, errfn):
    """The C entry ``spec.cname`` (see the module docstring) around ``body``."""
    mod = mctx.module
    tangent_args = [spec.args[i] for i in spec.wrt] if spec.mode == "jvp" else []
    ndims = result_ndims(spec, ti)
    fn = ir.Function(mod, ir.FunctionType(L.I32, c_params(spec.args) + c_params(tangent_args)
                                          + _out_params(ndims)), spec.cname)
    e = _Entry(mctx, fn, errfn)
    b = e.b
    params = iter(fn.args)
    n_args = len(spec.args)
    flat, shapes = read_args(b, params, spec.args, ti.arg_types[:n_args])
    tflat, tshapes = read_args(b, params, tangent_args, ti.arg_types[n_args:])
    outs = params
    lock = _lock_global(mod)
    _acquire(e.code, lock)
    ctx = L.alloca(b, L.CTX_STRUCT)
    b.store(ir.Constant(L.CTX_STRUCT, None), ctx)
    slot = L.alloca(b, L.ll_type(ti.ret))
    if spec.mode == "jacfwd":
        _jacobians(e, ti, body, spec, ctx, slot, flat, shapes, outs)
    else:
        for k, i in enumerate(spec.wrt if spec.mode == "jvp" else ()):
            for d in range(spec.args[i].ndim):   # the body's bounds proofs rely on it
                with b.if_then(b.icmp_signed("!=", tshapes[k][d], shapes[i][d])):
                    e.fail(ERR_RAISED, "ValueError: the tangent of argument %lld has extent "
                                       "%lld where the argument has %lld",
                           _c(i), tshapes[k][d], shapes[i][d])
        with b.if_then(e.ok()):
            _call(e, ti, body, ctx, slot, flat + tflat, lambda res: _values(e, ti, spec, res, outs))
    e.finish()
    _release(e.code, lock)
    b.ret(b.load(e.status, typ=L.I32))
    return fn


def _call(e, ti, body, ctx, slot, flat, on_result):
    """Call the body once; ``on_result(unpacked result)`` if it returned, else its error."""
    b = e.b
    st = b.call(body.fn, [slot, ctx] + flat)
    with b.if_else(b.icmp_signed("==", st, _c(0, L.I32))) as (ok, failed):
        with ok:
            on_result(L.unpack(b, ti.ret, b.load(slot, typ=L.ll_type(ti.ret))))
        with failed:
            _report_raised(e.code, e.mctx, ctx, e.errfn)
            b.store(_c(ERR_RAISED, L.I32), e.status)
    b.call(e.mctx.arena_free(), [ctx])


def _values(e, ti, spec, res, outs):
    """The value (and the tangent, for jvp) into results of the value's shape."""
    vt = value_type(ti, spec.mode)
    items = [(res, vt)] if spec.mode == "value" else \
        [(res.items[0], vt), (res.items[1], ti.ret.items[1])]
    value = items[0][0]
    for v, t in items:
        if not isinstance(vt, T.Array):
            e.b.store(_convert(e.b, v, t, L.F64), next(outs))
            continue
        buf, dims = e.array_result(value, vt, outs)
        with e.b.if_then(e.ok()):
            e.write(v, t, dims, e.b.load(buf, typ=L.PTR), _c_strides(e.b, dims))


def _jacobians(e, ti, body, spec, ctx, slot, flat, shapes, outs):
    """One Jacobian per differentiated argument, column by column: the tangent code called
    with a unit seed per element of the argument (the other tangents zero)."""
    b = e.b
    vt = value_type(ti, "jacfwd")
    nv = getattr(vt, "ndim", 0)
    seeds, seed_flat = [], []    # per differentiated argument: (buffer or scalar slot, extents)
    for i in spec.wrt:
        a = spec.args[i]
        elt = L.scalar_ll(T.SCALARS[a.dtype])
        if not a.ndim:
            s = e.alloca(elt)
            b.store(ir.Constant(elt, 0.0), s)
            seeds.append((s, []))
            seed_flat.append(lambda s=s, elt=elt: [b.load(s, typ=elt)])
            continue
        dims = shapes[i]
        n = _prod(b, dims)
        buf = e.alloca(L.PTR)                      # freed at the end, never handed out
        b.store(e.malloc(b.mul(n, _c(L.itemsize(T.SCALARS[a.dtype])))), buf)
        with b.if_then(e.ok()):
            data = b.load(buf, typ=L.PTR)
            e.code.loop(n, lambda j: b.store(ir.Constant(elt, 0.0),
                                             b.gep(data, [j], source_etype=elt)))
        seeds.append((buf, dims))
        seed_flat.append(lambda buf=buf, dims=dims: [b.load(buf, typ=L.PTR)] + dims +
                         _c_strides(b, dims))
    value_dims = e.alloca(ir.ArrayType(L.I64, max(nv, 1)))
    for k, i in enumerate(spec.wrt):
        a = spec.args[i]
        elt = L.scalar_ll(T.SCALARS[a.dtype])
        seed, dims = seeds[k]
        n = _prod(b, dims)
        jac = _JacobianOut(e, outs, nv, dims, value_dims)

        def direction(j, k=k, a=a, elt=elt, seed=seed, n=n, jac=jac):
            inside = b.icmp_signed("<", j, n)

            def at_j():
                if not a.ndim:
                    return seed
                return b.gep(b.load(seed, typ=L.PTR), [j], source_etype=elt)
            with b.if_then(b.and_(e.ok(), inside)):
                b.store(ir.Constant(elt, 1.0), at_j())
            with b.if_then(e.ok()):
                tangents = [x for f in seed_flat for x in f()]
                _call(e, ti, body, ctx, slot, flat + tangents,
                      lambda res: jac.column(j, inside, res, vt, ti.ret.items[1]))
            with b.if_then(inside):
                b.store(ir.Constant(elt, 0.0), at_j())
        # at least one call, which gives the value's shape (an empty argument: no column)
        e.code.loop(b.select(b.icmp_signed(">", n, _c(0)), n, _c(1)), direction)
    for buf, dims in seeds:
        if dims:
            b.call(e.mctx.free(), [b.load(buf, typ=L.PTR)])


class _JacobianOut:
    """The Jacobian with respect to one argument (n elements): allocated at the first column,
    once the value's extents are known; column j holds the tangent of direction j."""

    def __init__(self, e, outs, nv, arg_dims, value_dims):
        self.e, self.nv, self.arg_dims, self.value_dims = e, nv, list(arg_dims), value_dims
        self.n = _prod(e.b, self.arg_dims)
        if nv + len(arg_dims):
            self.data_out, self.shape_out = next(outs), next(outs)
            self.buf = e.result(self.data_out)
        else:
            self.scalar_out = next(outs)

    def column(self, j, inside, res, vt, tt):
        e, b = self.e, self.e.b
        value, tangent = res.items
        if not self.nv and not self.arg_dims:          # d(scalar)/d(scalar): a double
            b.store(_convert(b, tangent, tt, L.F64), self.scalar_out)
            return
        vdims = list(value.shape) if self.nv else []
        cell = [b.gep(self.value_dims, [_c(0), _c(k)],
                      source_etype=ir.ArrayType(L.I64, max(self.nv, 1))) for k in range(self.nv)]
        with b.if_else(b.icmp_signed("==", j, _c(0))) as (first, later):
            with first:
                for k, d in enumerate(vdims):
                    b.store(d, cell[k])
                for k, d in enumerate(vdims + self.arg_dims):
                    b.store(d, b.gep(self.shape_out, [_c(k)], source_etype=L.I64))
                total = b.mul(_prod(b, vdims), self.n)
                b.store(e.malloc(b.mul(total, _c(8))), self.buf)
            with later:   # the same arguments give the same shape (or the code is not pure)
                for k, d in enumerate(vdims):
                    seen = b.load(cell[k], typ=L.I64)
                    with b.if_then(b.icmp_signed("!=", d, seen)):
                        e.fail(ERR_SHAPE, "ValueError: the value's extent %lld changed to %lld "
                                          "between directions (dimension %lld)", seen, d, _c(k))
        with b.if_then(b.and_(e.ok(), inside)):
            dims = [b.load(c, typ=L.I64) for c in cell]
            dst = b.gep(b.load(self.buf, typ=L.PTR), [j], source_etype=L.F64)
            e.write(tangent, tt, dims, dst, _c_strides(b, dims, self.n))
