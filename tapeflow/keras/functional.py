"""The functional API: ``keras.Input`` placeholders, layers called on them, and the graph that
``keras.Model(inputs, outputs)`` replays on real inputs.

A layer called on placeholders is built and run once on zeros (batch size 1, every tape paused)
to learn its output shape and dtype; the call is kept as a node (layer, arguments, outputs).
Calling the model runs the nodes in dependency order with the placeholders bound to the inputs,
so the model's gradients are the layers' recorded ops, as for any other call.
"""
import numpy as np

from . import _ops


class KerasTensor:
    """A symbolic input or layer output: shape (None for unknown sizes, e.g. the batch), dtype."""

    def __init__(self, shape, dtype="float32", name=None, node=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = _ops.runtime.as_dtype(_ops.np_dtype(dtype))
        self.name = name or _ops.unique_name("keras_tensor")
        self._node = node

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, sparse=False, "
                f"name={self.name}>")

    def __array__(self, *args, **kwargs):
        raise TypeError(f"A KerasTensor ({self.name}) is a symbolic placeholder: it has no value. "
                        f"Use it as the input of Keras layers (wrap other operations in a "
                        f"keras.layers.Lambda layer).")

    # Python operators on placeholders add a node (a Lambda layer in the placeholder's dtype), as
    # keras.ops does in Keras 3: `outputs = dense(x) * 2.0 + x` builds a graph.
    def _op(self, fn, other=None, unary=False):
        from .core_layers import Lambda
        dtype = self.dtype.name
        if unary:
            return Lambda(fn, dtype=dtype)(self)
        if isinstance(other, KerasTensor):
            return Lambda(lambda xs: fn(xs[0], xs[1]), dtype=dtype)([self, other])
        return Lambda(lambda x: fn(x, other), dtype=dtype)(self)

    def __add__(self, o):
        return self._op(lambda a, b: a + b, o)

    def __radd__(self, o):
        return self._op(lambda a, b: b + a, o)

    def __sub__(self, o):
        return self._op(lambda a, b: a - b, o)

    def __rsub__(self, o):
        return self._op(lambda a, b: b - a, o)

    def __mul__(self, o):
        return self._op(lambda a, b: a * b, o)

    def __rmul__(self, o):
        return self._op(lambda a, b: b * a, o)

    def __truediv__(self, o):
        return self._op(lambda a, b: a / b, o)

    def __rtruediv__(self, o):
        return self._op(lambda a, b: b / a, o)

    def __pow__(self, o):
        return self._op(lambda a, b: a ** b, o)

    def __matmul__(self, o):
        return self._op(lambda a, b: a @ b, o)

    def __neg__(self):
        return self._op(lambda a: -a, unary=True)

    def __getitem__(self, key):
        return self._op(lambda a: a[key], unary=True)

    def __bool__(self):
        raise TypeError("A KerasTensor has no truth value: it is a symbolic placeholder")

    __hash__ = object.__hash__


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, **kwargs):
    """A placeholder for a model input of ``shape`` (without the batch axis)."""
    if batch_shape is None:
        if shape is None:
            raise ValueError("You must pass a `shape` argument.")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        batch_shape = (batch_size,) + shape
    return KerasTensor(batch_shape, dtype or "float32", name=name or _ops.unique_name("input"))


class Node:
    __slots__ = ("layer", "inputs", "args", "kwargs", "training", "outputs")

    def __init__(self, layer, inputs, args, kwargs, training, outputs):
        self.layer, self.inputs, self.args, self.kwargs = layer, inputs, args, kwargs
        self.training, self.outputs = training, outputs


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    if isinstance(x, dict):
        return [leaf for key in x for leaf in _leaves(x[key])]
    return [x]


def _map(fn, x):
    if isinstance(x, (list, tuple)):
        return type(x)(_map(fn, item) for item in x)
    if isinstance(x, dict):
        return {k: _map(fn, v) for k, v in x.items()}
    return fn(x)


def is_symbolic(x):
    return any(isinstance(leaf, KerasTensor) for leaf in _leaves(x))


def _zeros(kt):
    shape = tuple(1 if d is None else d for d in kt.shape)
    return _ops.constant(np.zeros(shape, dtype=kt.dtype.as_numpy_dtype))


def call_symbolic(layer, inputs, args, kwargs, training):
    """``layer(inputs)`` on placeholders: run once on zeros for the output's shape and dtype,
    and return placeholders for the outputs that remember this call."""
    unknown_batch = any(isinstance(kt, KerasTensor) and kt.shape[:1] == (None,)
                        for kt in _leaves(inputs))
    concrete = _map(lambda v: _zeros(v) if isinstance(v, KerasTensor) else v, inputs)
    with _ops.stop_recording_all():
        out = layer(concrete, *args, training=training, **kwargs)
    node = Node(layer, inputs, args, kwargs, training, [])

    def placeholder(t):
        shape = tuple(t.shape)
        if unknown_batch and shape:
            shape = (None,) + shape[1:]
        kt = KerasTensor(shape, _ops.np_dtype(t.dtype), node=node)
        node.outputs.append(kt)
        return kt
    return _map(placeholder, out)


def shape_by_running(layer, input_shape):
    """The output shape of ``layer`` for ``input_shape`` (None sizes stay None on the batch);
    a list of shapes for a layer taking a list of inputs."""
    shape = tuple(input_shape)
    if shape and all(isinstance(s, (list, tuple)) for s in shape):
        kt = [KerasTensor(s, layer.dtype) for s in shape]
    else:
        kt = KerasTensor(shape, layer.dtype)
    out = call_symbolic(layer, kt, (), {}, None)
    return out.shape if isinstance(out, KerasTensor) else _map(lambda t: t.shape, out)


class Graph:
    """The nodes between ``inputs`` and ``outputs``, in an order where each node's inputs are
    computed before it."""

    def __init__(self, inputs, outputs):
        self.inputs, self.outputs = inputs, outputs
        self.input_leaves = _leaves(inputs)
        for kt in self.input_leaves:
            if not isinstance(kt, KerasTensor):
                raise TypeError(f"Model inputs must be keras.Input placeholders, got {kt!r}")
        given = {id(kt) for kt in self.input_leaves}
        self.nodes, done, visiting = [], set(), set()

        def visit(kt):
            if id(kt) in given:
                return
            node = kt._node
            if node is None:
                raise ValueError(f"Output {kt.name} is not connected to the model inputs: it "
                                 f"depends on a keras.Input that is not in `inputs`.")
            if id(node) in done:
                return
            if id(node) in visiting:
                raise ValueError("The functional graph has a cycle")
            visiting.add(id(node))
            for leaf in _leaves(node.inputs):
                if isinstance(leaf, KerasTensor):
                    visit(leaf)
            visiting.discard(id(node))
            done.add(id(node))
            self.nodes.append(node)
        for kt in _leaves(outputs):
            if not isinstance(kt, KerasTensor):
                raise TypeError(f"Model outputs must come from layers called on keras.Input, "
                                f"got {kt!r}")
            visit(kt)
        self.layers = []
        for node in self.nodes:
            if all(node.layer is not seen for seen in self.layers):
                self.layers.append(node.layer)

    def run(self, values):
        """The outputs for the input values (a structure like ``inputs``, or a flat list)."""
        flat = _leaves(values) if not isinstance(values, dict) or isinstance(self.inputs, dict) \
            else None
        if isinstance(self.inputs, dict) and isinstance(values, dict):
            flat = [values[k] for k in self.inputs]
        if flat is None or len(flat) != len(self.input_leaves):
            raise ValueError(f"The model expects {len(self.input_leaves)} input(s), but it "
                             f"received {len(_leaves(values))} input tensors.")
        env = {}
        for kt, v in zip(self.input_leaves, flat):
            v = _ops.to_input(v, kt.dtype)
            got, want = tuple(v.shape), kt.shape
            if len(got) != len(want) or any(w is not None and g != w for g, w in zip(got, want)):
                raise ValueError(f"Input {kt.name} is incompatible with the model: expected "
                                 f"shape={want}, found shape={got}")
            env[id(kt)] = v
        for node in self.nodes:
            args = _map(lambda x: env[id(x)] if isinstance(x, KerasTensor) else x, node.inputs)
            out = node.layer(args, *node.args, training=node.training, **node.kwargs)
            for kt, t in zip(node.outputs, _leaves(out)):
                env[id(kt)] = t
        return _map(lambda kt: env[id(kt)], self.outputs)
