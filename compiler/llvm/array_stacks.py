"""Save stacks of values holding arrays: each push copies the arrays' elements into the stack's
own buffer, one variable-size record after another, so the stack is a single geometrically
grown allocation and never holds a pointer into the call's arena (whose temporaries the loops
then free every iteration, see arena_scope.py).

A stack of such values is a byte buffer {data, length in bytes, capacity in bytes}; a record is

    [leaves: 8 bytes per flattened field, an array's data pointer stored as its offset in the
     record] [each array's elements, C-contiguous, padded to 8 bytes] [i64 record size]

so a pop finds the record's start from its last word. ``copy`` / ``extend`` keep reading and
resetting the length, as for scalar stacks: the records above the top stay in the buffer. A pop
copies the arrays out into fresh arena arrays: the buffer moves when a later push grows it.
"""
from llvmlite import ir

from .. import typing as T
from . import types as L
from . import arrays as A


def holds_arrays(t):
    if isinstance(t, T.Array):
        return True
    return isinstance(t, T.Tuple) and any(holds_arrays(x) for x in t.items)


def _arrays(t, v):
    """The arrays of value ``v`` (type ``t``) in flatten order."""
    if isinstance(t, T.Array):
        return [v]
    if isinstance(t, T.Tuple):
        return [a for it, iv in zip(t.items, v.items) for a in _arrays(it, iv)]
    return []


def data_leaves(t):
    """Positions of the arrays' data pointers among ``L.flatten(t, v)``."""
    if isinstance(t, T.Array):
        return [0]
    if isinstance(t, T.Tuple):
        out, k = [], 0
        for it in t.items:
            out += [k + j for j in data_leaves(it)]
            k += len(L.flat_ll(it))
        return out
    return []


def _c64(v):
    return ir.Constant(L.I64, v)


def _pad8(b, n):
    return b.and_(b.add(n, _c64(7)), _c64(-8))


def _nbytes(lw, a):
    n = _c64(L.itemsize(a.dtype))
    for d in a.shape:
        n = lw.b.mul(n, d)
    return n


def push(lw, sname, et, v, ensure_capacity):
    """Append value ``v`` of element type ``et`` as one record."""
    b = lw.b
    datap, lenp = lw._stack_fields(sname)[:2]
    arrays = _arrays(et, v)
    leaves = L.flatten(et, _as_contiguous(b, et, v))      # the record holds C-contiguous copies
    head = 8 * len(leaves)
    sizes = [_pad8(b, _nbytes(lw, a)) for a in arrays]
    total = _c64(head + 8)
    for s in sizes:
        total = b.add(total, s)
    start = b.load(lenp, typ=L.I64)
    ensure_capacity(lw, sname, b.add(start, total), 1)
    base = b.gep(b.load(datap, typ=L.PTR), [start], source_etype=L.I8, inbounds=True)
    offsets, off = [], _c64(head)
    for s in sizes:
        offsets.append(off)
        off = b.add(off, s)
    data_at = dict(zip(data_leaves(et), offsets))
    for k, leaf in enumerate(leaves):
        slot = b.gep(base, [_c64(8 * k)], source_etype=L.I8, inbounds=True)
        b.store(data_at[k] if k in data_at else leaf, slot)
    for a, o in zip(arrays, offsets):
        dst = L.ArrayVal(a.type, b.gep(base, [o], source_etype=L.I8, inbounds=True),
                         a.shape, A.c_strides(b, a.shape))
        A.map_elementwise(lw, a.dtype, [(a, a.type)], lambda k, vals: vals[0], out=dst,
                          key=("copy",))
    b.store(total, b.gep(base, [b.sub(total, _c64(8))], source_etype=L.I8, inbounds=True))
    b.store(b.add(start, total), lenp)


def pop(lw, sname, et, end):
    """Remove the top record (the stack's length is ``end`` bytes, known to be > 0) and return
    its value, the arrays copied into fresh arena arrays."""
    b = lw.b
    datap, lenp = lw._stack_fields(sname)[:2]
    buf = b.load(datap, typ=L.PTR)
    total = b.load(b.gep(buf, [b.sub(end, _c64(8))], source_etype=L.I8, inbounds=True), typ=L.I64)
    start = b.sub(end, total)
    b.store(start, lenp)
    base = b.gep(buf, [start], source_etype=L.I8, inbounds=True)
    data = set(data_leaves(et))
    leaves = []
    for k, ll_t in enumerate(L.flat_ll(et)):
        slot = b.gep(base, [_c64(8 * k)], source_etype=L.I8, inbounds=True)
        if k in data:
            leaves.append(b.gep(base, [b.load(slot, typ=L.I64)], source_etype=L.I8, inbounds=True))
        else:
            leaves.append(b.load(slot, typ=ll_t))
    return _copied(lw, et, L.unflatten(et, iter(leaves)))


def _as_contiguous(b, t, v):
    if isinstance(t, T.Array):
        return L.ArrayVal(t, v.data, v.shape, A.c_strides(b, v.shape))
    if isinstance(t, T.Tuple):
        return L.TupleVal(t, [_as_contiguous(b, it, iv) for it, iv in zip(t.items, v.items)])
    return v


def _copied(lw, t, v):
    if isinstance(t, T.Array):
        return A.copy(lw, v)
    if isinstance(t, T.Tuple):
        return L.TupleVal(t, [_copied(lw, it, iv) for it, iv in zip(t.items, v.items)])
    return v
