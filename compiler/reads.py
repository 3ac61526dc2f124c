"""What a transform read besides the source, and the per-call check that all of it is unchanged.

A derivative depends on the globals, closure cells and callees its function reads, and on
``__code__``/``__defaults__``. A cached result carries its ``Reads``; ``valid()`` walks them,
and ``checker()`` writes the same test as straight-line code with every reference bound, cheap
enough to run before each call of a compiled gradient (a rebound global, a redefined helper or
a replaced ``__code__`` must never run stale code).
"""
import numbers
import weakref

MISSING = object()   # a name absent from the globals (a builtin), or an absent attribute


class Reads:
    """Functions (their code and defaults), and the global, closure and attribute values they
    looked up. ``valid()`` says whether all are unchanged; ``checker()`` is the same test as a
    fast function of no arguments."""
    __slots__ = ("functions", "names", "cells", "attributes", "_checker")

    def __init__(self):
        # functions are held weakly (a cache entry must not keep its own key alive): a
        # collected one makes the entry stale
        self.functions = []   # (weakref to fn, __code__, __defaults__, __kwdefaults__)
        self.names = []       # (weakref to fn, name, value) read in fn's globals; MISSING: a builtin
        self.cells = []       # (cell, value)
        self.attributes = []  # (object, attribute, value): mymod.A
        self._checker = (None, None)   # (the list lengths it was written for, checker)

    def add_parsed(self, parsed):
        fn = parsed.fn
        ref = weak(fn)
        self.functions.append((ref, fn.__code__, fn.__defaults__, fn.__kwdefaults__))
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        for key in sorted(parsed.namespace.read):
            value = dict.get(parsed.namespace, key, MISSING)
            if key in cells:
                self.cells.append((cells[key], value))
            else:
                self.names.append((ref, key, fn.__globals__.get(key, MISSING)))
        self.attributes += getattr(parsed.namespace, "attributes", [])

    def extend(self, other):
        self.functions += other.functions
        self.names += other.names
        self.cells += other.cells
        self.attributes += other.attributes

    def valid(self):
        for ref, code, defaults, kwdefaults in self.functions:
            fn = ref()
            if fn is None or fn.__code__ is not code or fn.__defaults__ is not defaults or \
                    fn.__kwdefaults__ is not kwdefaults:
                return False
        for ref, key, value in self.names:
            fn = ref()
            if fn is None:
                return False
            now = fn.__globals__.get(key, MISSING)
            if now is not value and not same(now, value):
                return False
        for cell, value in self.cells:
            try:
                now = cell.cell_contents
            except ValueError:
                return False
            if now is not value and not same(now, value):
                return False
        for obj, attr, value in self.attributes:
            now = getattr(obj, attr, MISSING)
            if now is not value and not same(now, value):
                return False
        return True

    def checker(self):
        """``valid`` as generated straight-line code: one test per thing read (repeats, as
        inner gradients add them, tested once), each saved object bound as a default argument.
        Written once for what has been read so far (the lists only grow), shared by every
        cache entry made from these Reads; what it says always equals ``valid()``."""
        stamp = (len(self.functions), len(self.names), len(self.cells), len(self.attributes))
        if self._checker[0] != stamp:
            self._checker = (stamp, _CheckerWriter(self).function())
        return self._checker[1]


class _CheckerWriter:
    def __init__(self, reads):
        self.bound = {}      # name in the generated code -> the object it stands for
        self.lines = []
        self.seen = set()    # tests already written, by the identities they compare
        self.refs = {}       # id(weakref) -> name of the local holding its function
        names = {}
        for ref, key, value in reads.names:    # globals grouped under their function
            names.setdefault(id(ref), (ref, []))[1].append((key, value))
        for ref, code, defaults, kwdefaults in reads.functions:
            self.function_test(ref, code, defaults, kwdefaults)
        for ref, keys in names.values():
            fn = self.function_local(ref)
            self.emit(f"g = {fn}.__globals__")
            for key, value in keys:
                self.value_test(f"g.get({key!r}, MISSING)", value, ("name", id(ref), key))
        for cell, value in reads.cells:
            if ("cell", id(cell), id(value)) in self.seen:
                continue
            c = self.bind(cell, "cell")
            self.emit("try:", f"    now = {c}.cell_contents", "except ValueError:",
                      "    return False")
            self.value_test(None, value, ("cell", id(cell)))
        for obj, attr, value in reads.attributes:
            self.value_test(f"getattr({self.bind(obj, 'obj')}, {attr!r}, MISSING)", value,
                            ("attribute", id(obj), attr))

    def bind(self, obj, stem):
        name = f"{stem}{len(self.bound)}"
        self.bound[name] = obj
        return name

    def emit(self, *lines):
        self.lines.extend(lines)

    def function_local(self, ref):
        """The local holding ``ref``'s function (False returned if it was collected)."""
        if id(ref) not in self.refs:
            fn = self.refs[id(ref)] = f"fn{len(self.refs)}"
            self.emit(f"{fn} = {self.bind(ref, 'ref')}()", f"if {fn} is None:",
                      "    return False")
        return self.refs[id(ref)]

    def function_test(self, ref, code, defaults, kwdefaults):
        test = ("function", id(ref), id(code), id(defaults), id(kwdefaults))
        if test in self.seen:
            return
        self.seen.add(test)
        fn = self.function_local(ref)
        self.emit(f"if {fn}.__code__ is not {self.bind(code, 'code')} or "
                  f"{fn}.__defaults__ is not {self.bind(defaults, 'defaults')} or "
                  f"{fn}.__kwdefaults__ is not {self.bind(kwdefaults, 'kwdefaults')}:",
                  "    return False")

    def value_test(self, expression, value, where):
        """``now = expression`` (None: already assigned), then False unless it is ``value``
        or an equal number of the same type (see ``same``)."""
        test = where + (id(value),)
        if test in self.seen:
            return
        self.seen.add(test)
        if expression is not None:
            self.emit(f"now = {expression}")
        v = self.bind(value, "value")
        if isinstance(value, (numbers.Number, str)):
            self.emit(f"if now is not {v} and not same(now, {v}):", "    return False")
        else:   # same() is False for anything else: identity alone decides
            self.emit(f"if now is not {v}:", "    return False")

    def function(self):
        params = "".join(f", {name}={name}" for name in self.bound)
        source = "\n    ".join([f"def unchanged(MISSING=MISSING, same=same{params}):"] +
                               self.lines + ["return True"])
        scope = {"MISSING": MISSING, "same": same, **self.bound}
        exec(compile(source, "<tapeflow staleness check>", "exec"), scope)
        unchanged = scope["unchanged"]
        unchanged.source = source
        return unchanged


def weak(fn):
    try:
        return weakref.ref(fn)
    except TypeError:
        return lambda: fn


def same(a, b):
    # an equal number rebound (x = 2.0 twice) is the same constant; anything else must be the
    # very object the transform saw (an array is read by reference: its contents may change)
    return type(a) is type(b) and isinstance(a, (numbers.Number, str)) and a == b
