"""The per-call staleness check (reads.Reads.checker, generated code) says what the reference
walk (Reads.valid) says, for every kind of thing a transform reads and every way it changes."""
import gc
import types

import numpy as np

from tapeflow.compiler import reads

W = np.ones(3)


def _function(ns, cell_value=1.0):
    def make():
        c = cell_value

        def f(x, k=2.0):
            return c * x * k
        return f
    f = make()
    return types.FunctionType(f.__code__, ns, "f", f.__defaults__, f.__closure__)


def _other_code():
    c = 1.0
    return (lambda x, k=2.0: c + x + k).__code__   # the same one free variable, another body


def _reads(ns, f, holder):
    r = reads.Reads()
    ref = reads.weak(f)
    r.functions.append((ref, f.__code__, f.__defaults__, f.__kwdefaults__))
    r.names += [(ref, "k", 2.5), (ref, "arr", ns["arr"]), (ref, "len", reads.MISSING),
                (ref, "label", "a")]
    r.cells.append((f.__closure__[0], 1.0))
    r.attributes.append((holder, "A", holder.A))
    r.extend(r)   # repeats, as inner gradients add them: tested once, same answer
    return r


def _changes():
    """(description, change(ns, f, holder), stays valid?) for one thing changed at a time."""
    def rebind(key, value):
        return lambda ns, f, h: ns.__setitem__(key, value)
    return [
        ("an equal float rebound", rebind("k", float("2.5")), True),
        ("another float", rebind("k", 2.75), False),
        ("an int equal to the float", rebind("k", 2), False),
        ("a copy of the array", lambda ns, f, h: ns.__setitem__("arr", ns["arr"].copy()), False),
        ("a builtin shadowed", rebind("len", lambda x: 0), False),
        ("an equal string", rebind("label", "".join(["a"])), True),
        ("a removed global", lambda ns, f, h: ns.pop("k"), False),
        ("new __code__", lambda ns, f, h: setattr(f, "__code__", _other_code()), False),
        ("new defaults", lambda ns, f, h: setattr(f, "__defaults__", (3.0,)), False),
        ("new keyword defaults", lambda ns, f, h: setattr(f, "__kwdefaults__", {"z": 1}), False),
        ("a closure cell set", lambda ns, f, h: setattr(f.__closure__[0], "cell_contents", 2.0),
         False),
        ("a closure cell emptied", lambda ns, f, h: delattr(f.__closure__[0], "cell_contents"),
         False),
        ("an attribute rebound", lambda ns, f, h: setattr(h, "A", W.copy()), False),
        ("an attribute deleted", lambda ns, f, h: delattr(h, "A"), False),
        ("an unrelated global", rebind("other", 1), True),
    ]


def test_checker_agrees_with_valid_for_each_change():
    for what, change, stays in _changes():
        ns = {"k": 2.5, "arr": W, "label": "a"}
        holder = types.SimpleNamespace(A=W)
        f = _function(ns)
        r = _reads(ns, f, holder)
        unchanged = r.checker()
        assert r.valid() and unchanged(), what
        change(ns, f, holder)
        assert r.valid() is stays, what
        assert unchanged() is stays, what


def test_a_collected_function_makes_the_check_fail():
    ns = {"k": 2.5, "arr": W, "label": "a"}
    holder = types.SimpleNamespace(A=W)
    f = _function(ns)
    r = _reads(ns, f, holder)
    unchanged = r.checker()
    assert unchanged()
    del f
    gc.collect()
    assert not r.valid() and not unchanged()


def test_nothing_read_is_always_unchanged():
    assert reads.Reads().checker()()
