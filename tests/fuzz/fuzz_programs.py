"""Random programs in the subset tapeflow differentiates, from a seed.

A program is a module: a few small helpers and ``f(x)``, where x is a float or a 1-d array of
length N, made of scalar and array float math, loops (for, while, break, continue), branches,
early returns, element reads and writes, slices whose length follows a loop index (a name whose
shape changes across iterations), augmented assignment, and lists and tuples (literals
read by index, unpacked and iterated, passed to np.stack/np.concatenate/np.mean, and tuples
returned by helpers). Values stay bounded where
the operations allow it (log and sqrt of positive expressions, divisions by 2 + cos) so that f
is smooth near the input, except at branches and np.maximum.

Each program is written twice: as the backends see it, and as a probe that records how close
every comparison came to a tie (``_gt``, ``_maximum``), so that programs whose gradient would
depend on the side of a tie can be thrown away, and how large every exp came out (a sum beside
1e82 rounds x away: the program is constant in floating point but not in the mathematics).
"""
import random
import re

import numpy as np

PROBE_PRELUDE = '''
import math as _math
import types
import numpy as _np
_margins = []   # how far from a tie each comparison was, in the order they ran
_sizes = []     # how large each exp came out: beside a huge value, x is rounded away


def _recording_exp(exp):
    def recorded(v):
        result = exp(v)
        _sizes.append(float(_np.max(_np.abs(result))))
        return result
    return recorded


math = types.SimpleNamespace(**{**vars(_math), "exp": _recording_exp(_math.exp)})
np = types.SimpleNamespace(**{**vars(_np), "exp": _recording_exp(_np.exp)})


def _gt(a, b):
    _margins.append(float(abs(a - b)))
    return a > b


def _maximum(a, b):
    _margins.append(float(np.min(np.abs(np.asarray(a) - b))))
    return np.maximum(a, b)


def _max(a):
    top = np.sort(a)[-2:]
    _margins.append(float(top[-1] - top[0]) if len(top) == 2 else float("inf"))
    return np.max(a)
'''


class Code:
    """An expression as the backends see it (``plain``) and as the probe runs it."""

    def __init__(self, plain, probed=None):
        self.plain, self.probed = plain, plain if probed is None else probed


ATOM = re.compile(r"^[\w.]+(\[-?\w+\])?$")


class Part:
    """A sub-expression in a template: ``{}`` puts it in parentheses unless it is an atom,
    ``{:b}`` (an argument of a call, a whole statement's value) puts it bare."""

    def __init__(self, text):
        self.text = text

    def __format__(self, spec):
        return self.text if spec == "b" or ATOM.match(self.text) else f"({self.text})"


def fmt(template, *parts):
    return Code(template.format(*(Part(p.plain) for p in parts)),
                template.format(*(Part(p.probed) for p in parts)))


SCALAR_UNARY = ["math.sin({:b})", "math.cos({:b})", "math.tanh({:b})", "math.exp({:b})",
                "np.sin({:b})", "np.cos({:b})", "np.tanh({:b})", "np.exp({:b})",
                "math.log(1.0 + {0} * {0})", "np.log(1.5 + np.sin({:b}))",
                "math.sqrt({0} * {0} + 0.5)", "np.sqrt(1.0 + {0} * {0})", "{} ** 2", "-{}",
                "abs({:b}) ** 3"]
ARRAY_UNARY = ["np.sin({:b})", "np.cos({:b})", "np.tanh({:b})", "np.exp({:b})",
               "np.log(1.0 + {0} * {0})", "np.sqrt({0} * {0} + 0.5)", "{} ** 2", "-{}"]
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (2.0 + np.cos({:b}))"]
REDUCTIONS = ["np.sum({:b})", "np.mean({:b})", "np.max({:b})"]
# an array of length N from two: through a list or tuple literal ({2} is N)
LIST_ARRAY = ["np.mean([{0:b}, {1:b}], axis=0)", "np.sum(np.stack(({0:b}, {1:b})), axis=0)",
              "np.concatenate([{0:b}, {1:b}])[:{2:b}]", "np.array([{0:b}, {1:b}])[1]",
              "np.stack([{0:b}, {1:b}], axis=1)[:, 0]"]


class Scope:
    def __init__(self, scalars, arrays, indices=(), params=()):
        self.scalars, self.arrays = list(scalars), list(arrays)
        self.params = set(params)       # arrays of the caller: never written
        self.indices = list(indices)    # loop variables that run over range(N)
        self.counters = []              # ints: loop variables of other loops

    def copy(self):
        s = Scope(self.scalars, self.arrays, self.indices, self.params)
        s.counters = list(self.counters)
        return s


class Program:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.windows = random.Random(seed + 7_000_003)
        r = self.rng
        self.array_input = r.random() < 0.5
        self.n = r.randint(2, 5)
        self.helpers = []          # (name, params kinds "s"/"a", returns "s"/"a")
        self.lines = []            # (indent, plain, probed)
        self.fresh_count = 0
        self.loops = 0
        for k in range(r.choice([0, 0, 1, 2])):
            self.helper(f"h{k}")
        self.main()
        if self.array_input:
            self.x = np.array([round(r.uniform(-1.2, 1.2), 3) for _ in range(self.n)])
        else:
            self.x = round(r.uniform(-1.5, 1.5), 3)

    # -- text
    def emit(self, indent, code):
        code = code if isinstance(code, Code) else Code(code)
        self.lines.append((indent, code.plain, code.probed))

    def source(self, probed=False):
        head = PROBE_PRELUDE if probed else "import math\nimport numpy as np\n"
        body = "\n".join("    " * i + (q if probed else p) for i, p, q in self.lines)
        return head + "\n\n" + body + "\n"

    def fresh(self, base):
        self.fresh_count += 1
        return f"{base}{self.fresh_count}"

    # -- expressions
    def scalar(self, scope, depth):
        r = self.rng
        if depth <= 0 or r.random() < 0.25:
            return self.scalar_leaf(scope, depth)
        pick = r.random()
        if pick < 0.35:
            return fmt(r.choice(SCALAR_UNARY), self.scalar(scope, depth - 1))
        if pick < 0.75:
            return fmt(r.choice(BINARY), self.scalar(scope, depth - 1),
                       self.scalar(scope, depth - 1))
        if pick < 0.85:
            a, b = self.scalar(scope, depth - 1), self.scalar(scope, depth - 1)
            return Code(f"np.maximum({a.plain}, {b.plain})", f"_maximum({a.probed}, {b.probed})")
        if scope.arrays and pick < 0.95:
            a = self.array(scope, depth - 1)
            if r.random() < 0.3:
                return fmt("np.dot({:b}, {:b})", a, self.array(scope, depth - 1))
            reduction = r.choice(REDUCTIONS)
            if reduction == "np.max({:b})":   # a tie between two elements is a kink
                return Code(f"np.max({a.plain})", f"_max({a.probed})")
            return fmt(reduction, a)
        calls = [h for h in self.helpers if h[2] == "s"]
        if calls:
            name, params, _ = r.choice(calls)
            args = [self.scalar(scope, depth - 1) if p == "s" else self.array(scope, depth - 1)
                    for p in params]
            return Code(f"{name}({', '.join(a.plain for a in args)})",
                        f"{name}({', '.join(a.probed for a in args)})")
        return self.scalar_leaf(scope, depth)

    def scalar_leaf(self, scope, depth):
        r = self.rng
        pick = r.random()
        if scope.arrays and pick < 0.3:
            a = r.choice(scope.arrays)
            index = r.choice(scope.indices + [str(r.randrange(self.n)), "-1"])
            return Code(f"{a}[{index}]")
        if scope.counters and pick < 0.4:
            return Code(f"{r.choice(scope.counters)} * 0.25")
        if scope.scalars and pick < 0.9:
            return Code(r.choice(scope.scalars))
        return Code(repr(round(r.uniform(-2.0, 2.0), 2)))

    def array(self, scope, depth):
        r = self.rng
        if not scope.arrays:
            return fmt("np.ones({:b}) * {}", Code(str(self.n)), self.scalar(scope, depth - 1))
        if depth <= 0 or r.random() < 0.3:
            return Code(r.choice(scope.arrays))
        if r.random() < 0.08:
            a, b = self.array(scope, depth - 1), self.array(scope, depth - 1)
            return fmt(r.choice(LIST_ARRAY), a, b, Code(str(self.n)))
        pick = r.random()
        if pick < 0.35:
            return fmt(r.choice(ARRAY_UNARY), self.array(scope, depth - 1))
        if pick < 0.8:
            a, b = self.array(scope, depth - 1), self.array(scope, depth - 1)
            if r.random() < 0.4:
                b = self.scalar(scope, depth - 1)
                if r.random() < 0.5:
                    a, b = b, a
            return fmt(r.choice(BINARY[:3]), a, b)
        if pick < 0.9:
            a, s = self.array(scope, depth - 1), self.scalar(scope, depth - 1)
            return Code(f"np.maximum({a.plain}, {s.plain})", f"_maximum({a.probed}, {s.probed})")
        calls = [h for h in self.helpers if h[2] == "a"]
        if calls:
            name, _, _ = r.choice(calls)
            return fmt(name + "({:b})", self.array(scope, depth - 1))
        return fmt("np.tanh({:b})", self.array(scope, depth - 1))

    def condition(self, scope):
        a = self.scalar(scope, 2)
        b = self.scalar(scope, 1) if self.rng.random() < 0.5 else \
            Code(repr(round(self.rng.uniform(-1.0, 1.0), 2)))
        return Code(f"{a.plain} > {b.plain}", f"_gt({a.probed}, {b.probed})")

    # -- statements
    def block(self, scope, indent, count, depth, in_loop=False, top=False):
        for _ in range(count):
            self.statement(scope, indent, depth, in_loop, top)
            if scope.indices and scope.scalars and scope.arrays and self.windows.random() < 0.3:
                self.window(scope, indent)

    def statement(self, scope, indent, depth, in_loop, top):
        r = self.rng
        pick = r.random()
        if depth > 0 and pick < 0.15 and self.loops < 4:
            return self.for_loop(scope, indent, depth)
        if depth > 0 and pick < 0.22 and self.loops < 4:
            return self.while_loop(scope, indent, depth)
        if depth > 0 and pick < 0.34:
            return self.branch(scope, indent, depth, in_loop, top)
        if in_loop and pick < 0.40:
            self.emit(indent, fmt("if {:b}:", self.condition(scope)))
            self.emit(indent + 1, r.choice(["break", "continue"]))
            return
        if top and pick < 0.44:
            self.emit(indent, fmt("if {:b}:", self.condition(scope)))
            self.emit(indent + 1, fmt("return {:b}", self.scalar(scope, 2)))
            return
        if pick < 0.48 and r.random() < 0.5:
            return self.tuple_statement(scope, indent)
        if pick < 0.52 and self.array_input:
            return self.buffer(scope, indent)
        if pick < 0.62 and scope.arrays:
            writable = [a for a in scope.arrays if a not in scope.params]
            if writable:
                index = r.choice(scope.indices + [str(r.randrange(self.n))])
                op = r.choice(["=", "+="])
                self.emit(indent, fmt(f"{r.choice(writable)}[{index}] {op} {{:b}}",
                                      self.scalar(scope, 2)))
                return
        if pick < 0.75 and scope.arrays:
            return self.assign(scope, indent, "a", in_loop)
        self.assign(scope, indent, "s", in_loop)

    def assign(self, scope, indent, kind, in_loop=False):
        """In a loop, mostly an update of a name bound before it: state carried across
        iterations is what the adjoint sweep has to save and restore."""
        r = self.rng
        names = scope.scalars if kind == "s" else \
            [a for a in scope.arrays if a not in scope.params]
        value = self.scalar(scope, 3) if kind == "s" else self.array(scope, 3)
        if value.plain in scope.params:
            value = fmt("{} * 0.5", value)   # no alias of an argument: it is never written
        if names and r.random() < (0.85 if in_loop else 0.5):
            op = r.choice(["=", "=", "+=", "-=", "*="])
            if op == "*=":
                value = fmt("np.tanh({:b})", value)   # keeps products of updates bounded
            self.emit(indent, fmt(f"{r.choice(names)} {op} {{:b}}", value))
            return
        self.emit(indent, fmt(f"{self.new_name(scope, kind)} = {{:b}}", value))

    def new_name(self, scope, kind):
        name = self.fresh("s" if kind == "s" else "v")
        (scope.scalars if kind == "s" else scope.arrays).append(name)
        return name

    def tuple_statement(self, scope, indent):
        """A tuple (a literal, or a helper's result) read by index, unpacked or iterated."""
        r = self.rng
        calls = [h for h in self.helpers if h[2] == "t"]
        if calls and r.random() < 0.5:
            name, params, _ = r.choice(calls)
            args = [self.scalar(scope, 1) if p == "s" else self.array(scope, 1) for p in params]
            value = Code(f"{name}({', '.join(a.plain for a in args)})",
                         f"{name}({', '.join(a.probed for a in args)})")
        else:
            value = fmt("({:b}, {:b})", self.scalar(scope, 2), self.scalar(scope, 2))
        t = self.fresh("t")
        self.emit(indent, fmt(f"{t} = {{:b}}", value))
        pick = r.random()
        if pick < 0.35:
            a, b = self.fresh("s"), self.fresh("s")
            self.emit(indent, f"{a}, {b} = {t}")
            scope.scalars += [a, b]
        elif pick < 0.7:
            a = self.new_name(scope, "s")
            self.emit(indent, f"{a} = {t}[{r.choice(['0', '1', '-1'])}] * {t}[0] + len({t})")
        else:
            a, e = self.new_name(scope, "s"), self.fresh("e")
            self.emit(indent, f"{a} = 0.0")
            self.emit(indent, f"for {e} in {t}:")
            self.emit(indent + 1, f"{a} = {a} + math.sin({e}) * {e}")

    def buffer(self, scope, indent):
        name = self.fresh("b")
        i = self.fresh("i")
        self.emit(indent, f"{name} = np.zeros({self.n})")
        self.emit(indent, f"for {i} in range({self.n}):")
        inner = scope.copy()
        inner.indices.append(i)
        self.emit(indent + 1, fmt(f"{name}[{i}] = {{:b}}", self.scalar(inner, 3)))
        scope.arrays.append(name)

    def window(self, scope, indent):
        """A slice whose length follows the loop index, its elements read: the name's value
        changes shape from one iteration to the next. Drawn from a generator of its own, so
        that the rest of each seed's program stays what it was before windows existed."""
        r = self.windows
        i = r.choice(scope.indices)
        w = f"w{i}"   # one name per loop: each iteration reassigns it
        bounds = r.choice([f"{i}:", f":{i} + 1", f"{i}::-1", f"{i} // 2:"])
        scale = repr(round(r.uniform(0.5, 1.5), 2))
        self.emit(indent, f"{w} = {r.choice(scope.arrays)}[{bounds}] * {scale}")
        read = r.choice([f"{w}[0] * {w}[-1]", f"np.sum({w} * {w})", f"{w}[-1]"])
        probed = read
        if r.random() < 0.3:
            read, probed = f"{read} + np.max({w})", f"{read} + _max({w})"
        target = r.choice(scope.scalars)
        self.emit(indent, Code(f"{target} = {target} + 0.5 * ({read})",
                               f"{target} = {target} + 0.5 * ({probed})"))

    def for_loop(self, scope, indent, depth):
        self.loops += 1
        i = self.fresh("i")
        inner = scope.copy()
        if self.array_input and self.rng.random() < 0.5:
            self.emit(indent, f"for {i} in range({self.n}):")
            inner.indices.append(i)
        else:
            self.emit(indent, f"for {i} in range({self.rng.randint(1, 4)}):")
            inner.counters.append(i)
        self.block(inner, indent + 1, self.rng.randint(1, 3), depth - 1, in_loop=True)

    def while_loop(self, scope, indent, depth):
        self.loops += 1
        k = self.fresh("k")
        self.emit(indent, f"{k} = 0")
        self.emit(indent, f"while {k} < {self.rng.randint(1, 4)}:")
        self.emit(indent + 1, f"{k} += 1")   # first: a continue cannot skip it
        inner = scope.copy()
        inner.counters.append(k)
        self.block(inner, indent + 1, self.rng.randint(1, 3), depth - 1, in_loop=True)

    def branch(self, scope, indent, depth, in_loop, top):
        self.emit(indent, fmt("if {:b}:", self.condition(scope)))
        # names first bound in one path are not bound after the branch
        self.block(scope.copy(), indent + 1, self.rng.randint(1, 2), depth - 1, in_loop, top)
        if self.rng.random() < 0.6:
            self.emit(indent, "else:")
            self.block(scope.copy(), indent + 1, self.rng.randint(1, 2), depth - 1, in_loop,
                       top)

    # -- functions
    def helper(self, name):
        r = self.rng
        kind = r.choice(["ss", "ss", "as", "aa", "st"]) if self.array_input else \
            r.choice(["ss", "ss", "st"])
        params = ["s"] * r.randint(1, 2) if kind[0] == "s" else ["a"]
        names = [f"p{k}" for k in range(len(params))]
        self.emit(0, f"def {name}({', '.join(names)}):")
        arrays = [n for n, p in zip(names, params) if p == "a"]
        scope = Scope([n for n, p in zip(names, params) if p == "s"], arrays, params=arrays)
        self.block(scope, 1, r.randint(0, 2), 1)
        if kind[1] == "t":
            result = fmt("{:b}, {:b}", self.scalar(scope, 2), self.scalar(scope, 2))
        else:
            result = self.array(scope, 2) if kind[1] == "a" else self.scalar(scope, 2)
        self.emit(1, fmt("return {:b}", result))
        self.emit(0, "")
        self.emit(0, "")
        self.helpers.append((name, params, kind[1]))

    def main(self):
        self.emit(0, "def f(x):")
        if self.array_input:
            scope = Scope([], ["x"], params=["x"])
        else:
            scope = Scope(["x"], [])
        self.loops = 0
        for _ in range(self.rng.randint(0, 2)):   # scalar state that depends on x
            start = self.scalar_leaf(scope, 0) if not self.array_input else \
                Code(f"x[{self.rng.randrange(self.n)}]")
            self.emit(1, fmt(f"{self.new_name(scope, 's')} = {{}} * {{}}", start,
                             Code(repr(round(self.rng.uniform(0.3, 1.2), 2)))))
        self.block(scope, 1, self.rng.randint(2, 5), self.rng.choice([2, 2, 3]), top=True)
        # everything computed at the top level reaches the result
        terms = [self.scalar(scope, 2)] + [Code(v) for v in scope.scalars] + \
            [fmt("np.sum({:b})", Code(v)) for v in scope.arrays]
        self.emit(1, Code("return " + " + ".join(t.plain for t in terms),
                          "return " + " + ".join(t.probed for t in terms)))
