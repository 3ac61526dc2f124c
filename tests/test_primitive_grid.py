"""The grid test: every differentiable entry of the primitive table, on every backend.

Each entry is called at the variants its ``grid`` lists (or the default grid of its arity): shapes
scalar, 1-d, 2-d and broadcasting pairs, with axis/keyword variants. The function differentiated is
``np.sum(fn(*args) * weights)`` with fixed random weights, so every output element matters. Every
backend must either refuse (a TransformError or TraceEscape naming the construct) or give the
gradient of central differences in float64; the tape and the python backend must answer. A new
entry is tested the moment it is added to the table.
"""
import importlib.util
import itertools
import math
import operator

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError
from tapeflow.runtime import rules
from tapeflow.runtime.trace import TraceEscape

SHAPES = {"s": (), "v": (4,), "w": (3,), "m": (3, 4), "r": (1, 4), "c": (3, 1), "q": (3, 3),
          "t": (2, 3, 4), "n": (4, 3), "u": (2, 4, 3), "b": (2, 3, 3)}
DOMAINS = {"any": (-2.0, 2.0), "pos": (0.2, 2.0), "unit": (-0.9, 0.9), "gt1": (1.2, 3.0),
           "spd": (-1.0, 1.0)}
DEFAULT_GRID = {
    1: (("s",), ("v",), ("m",)),
    2: (("s", "s"), ("v", "v"), ("m", "v"), ("c", "r"), ("s", "m")),
    3: (("v", "v", "v"), ("m", "s", "v")),
}
REDUCTION_GRID = (("v",), ("m",), ("m", {"axis": 0}), ("m", {"axis": 1, "keepdims": True}),
                  ("t", {"axis": (0, 2)}))
MODULES = (("np", np), ("np.linalg", np.linalg), ("math", math), ("operator", operator))
# entries whose python-backend refusal is known and accepted (the tape answers them)
PYTHON_MAY_REFUSE = set()


def spelling(fn):
    """How generated test code names ``fn`` (``np.sin``), or None if it is no public callable."""
    name = getattr(fn, "__name__", None)
    for alias, module in MODULES:
        if name and getattr(module, name, None) is fn:
            return f"{alias}.{name}"
    return None


def variants(entry):
    if entry.grid is not None:
        return entry.grid
    if entry.role == "reduction":
        return REDUCTION_GRID
    return DEFAULT_GRID.get(entry.n_inputs, ())


def cases():
    out = []
    for entry in rules.ENTRIES:
        if entry.kind not in ("rule", "composite") or entry.native == "helper":
            continue
        seen = set()
        for fn in entry.callables:
            name = spelling(fn)
            if name is None or name.startswith("operator.i") or fn in seen:
                continue
            seen.add(fn)
            for k, variant in enumerate(variants(entry)):
                if name.startswith("math.") and any(c.rstrip("+-") != "s" for c in variant
                                                    if is_input(c)):
                    continue
                out.append(pytest.param(entry, name, variant, id=f"{name}-{k}"))
    return out


def is_input(code):
    return isinstance(code, str) and code.rstrip("+-") in SHAPES


def draw(code, domain, rng):
    shape = SHAPES[code.rstrip("+-")]
    lo, hi = DOMAINS[domain]
    if code.endswith("-"):      # below the other inputs' range (a lower bound)
        lo, hi = -3.0, -2.5
    elif code.endswith("+"):    # above it (an upper bound)
        lo, hi = 2.5, 3.0
    x = rng.uniform(lo, hi, size=shape)
    if domain == "spd" and len(shape) >= 2:
        x = x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])
    return float(x) if shape == () else x


def build(entry, name, variant, tmp_path):
    """The test function's source file, its inputs (the differentiated ones) and weights."""
    rng = np.random.default_rng(abs(hash((entry.name, repr(variant)))) % 2**32)
    kwargs = variant[-1] if variant and isinstance(variant[-1], dict) else {}
    positional = variant[:-1] if kwargs else variant
    inputs, parts = [], []
    for code in positional:
        if is_input(code):
            parts.append(f"a{len(inputs)}")
            inputs.append(draw(code, entry.domain, rng))
        elif isinstance(code, list):     # a list literal of inputs: np.concatenate([a0, a1])
            items = []
            for c in code:
                items.append(f"a{len(inputs)}")
                inputs.append(draw(c, entry.domain, rng))
            parts.append("[" + ", ".join(items) + "]")
        elif isinstance(code, np.ndarray):   # a constant array (a mask, indices)
            parts.append(f"np.array({code.tolist()!r})")
        else:
            parts.append(repr(code))
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    call = f"{name}({', '.join(parts)})"
    params = ", ".join(f"a{i}" for i in range(len(inputs)))
    ns = {"np": np, "math": math, "operator": operator, "inf": np.inf}
    value = eval(call, ns, {f"a{i}": v for i, v in enumerate(inputs)})
    head = "import math\nimport operator\nimport numpy as np\nfrom numpy import inf\n\n"
    if isinstance(value, tuple):
        # a decomposition's factors (eigh, svd, qr, slogdet): every factor counts, through its
        # absolute value because each is defined only up to signs (of eigen/singular vectors)
        weights = [rng.uniform(0.5, 1.5, size=np.shape(v)) for v in value]
        head += "".join(f"W{k} = np.array({w.tolist()!r})\n" for k, w in enumerate(weights))
        names = ", ".join(f"o{k}" for k in range(len(value)))
        terms = " + ".join(f"np.sum(np.abs(o{k}) * W{k})" for k in range(len(value)))
        src = f"{head}\n\ndef f({params}):\n    {names} = {call}\n    return {terms}\n"
    else:
        weights = rng.uniform(0.5, 1.5, size=np.shape(value))
        src = (f"{head}W = np.array({weights.tolist()!r})\n\n\n"
               f"def f({params}):\n    return np.sum({call} * W)\n")
    path = tmp_path / f"grid_{entry.name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f, inputs


def central_differences(f, inputs, h=1e-6):
    grads = []
    for i, x in enumerate(inputs):
        x = np.asarray(x, dtype=np.float64)
        g = np.zeros_like(x)
        for idx in itertools.product(*[range(n) for n in x.shape]):
            up, down = x.copy(), x.copy()
            up[idx] += h
            down[idx] -= h
            args_up = list(inputs)
            args_down = list(inputs)
            args_up[i] = up if x.ndim else float(up)
            args_down[i] = down if x.ndim else float(down)
            g[idx] = (f(*args_up) - f(*args_down)) / (2 * h)
        grads.append(g if x.ndim else float(g))
    return grads


@pytest.mark.parametrize("entry,name,variant", cases())
def test_grid(entry, name, variant, tmp_path):
    f, inputs = build(entry, name, variant, tmp_path)
    want = central_differences(f, inputs)
    argnums = tuple(range(len(inputs)))
    refused = {}
    for backend in ("tape", "python", "native"):
        try:
            got = tf.grad(f, argnums=argnums, backend=backend)(*inputs)
        except (TransformError, TraceEscape) as e:
            refused[backend] = str(e)
            continue
        for k, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7,
                                       err_msg=f"{backend}: d/da{k} of {name}{variant}")
    assert "tape" not in refused, refused["tape"]
    if entry.name not in PYTHON_MAY_REFUSE:
        assert "python" not in refused, refused["python"]


def test_grid_covers_the_table():
    """Every differentiable entry with a public spelling has at least one grid case."""
    covered = {p.values[0].name for p in cases()}
    missing = [e.name for e in rules.ENTRIES if e.kind in ("rule", "composite")
               and e.native != "helper" and any(spelling(c) for c in e.callables)
               and e.name not in covered]
    assert not missing, missing
