"""The Layer base class: weights, tracking of sub-layers, building, the ``training`` flag.

* Tracking: the variables and layers a layer holds (made by ``add_weight``, or assigned as
  attributes, directly or in lists/tuples/dicts) are found by walking its attributes in
  assignment order, so a subclassed layer or model needs no registration. ``weights`` lists the
  layer's own variables first, then each sub-layer's, without repeats (Keras' order).
* ``__call__`` builds the layer from the first input's shape (``build(input_shape)``), then calls
  ``call``. The ``training`` flag is resolved as Keras 3 does: the argument passed, else the value
  of the enclosing layer call, else ``call``'s own default; it reaches ``call`` only if ``call``
  takes it.
* A layer called on ``keras.Input`` placeholders records a node of the functional graph instead
  (models.py / functional.py).
"""
import inspect
import threading

import numpy as np

from . import _ops, initializers, regularizers
from .functional import call_symbolic, is_symbolic, shape_by_running


# Tracking results are cached per layer and invalidated by a global generation counter, bumped
# whenever a layer attribute that can hold layers or variables is set, or a list/dict held by a
# layer changes (they are wrapped, as Keras does, so that in-place changes are seen).
_generation = [0]


def _bump():
    _generation[0] += 1


def _mutator(base, name):
    def method(self, *args, **kwargs):
        result = getattr(base, name)(self, *args, **kwargs)
        _bump()
        return result
    method.__name__ = name
    return method


_TrackedList = type("_TrackedList", (list,), {n: _mutator(list, n) for n in (
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "__setitem__",
    "__delitem__", "__iadd__")})
_TrackedDict = type("_TrackedDict", (dict,), {n: _mutator(dict, n) for n in (
    "__setitem__", "__delitem__", "pop", "popitem", "clear", "update", "setdefault")})
_UNTRACKED = ("_losses", "_track_cache", "_weights_cache")


class _CallContext(threading.local):
    def __init__(self):
        self.training = []     # the resolved flag of each enclosing layer call (None: unset)


_context = _CallContext()


class Layer:
    _convert_inputs = True      # a functional model converts to each Input's dtype instead

    def __setattr__(self, name, value):
        if name in _UNTRACKED:
            object.__setattr__(self, name, value)
            return
        if type(value) is list:
            value = _TrackedList(value)
        elif type(value) is dict:
            value = _TrackedDict(value)
        old = self.__dict__.get(name)
        object.__setattr__(self, name, value)
        if name == "trainable" or _may_track(value) or _may_track(old):
            _bump()

    def __init__(self, name=None, input_shape=None, dtype="float32", trainable=True,
                 input_dim=None, **kwargs):
        kwargs.pop("autocast", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))}")
        if input_shape is None and input_dim is not None:
            input_shape = (input_dim,)
        if input_shape is None and batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self.name = name or _ops.unique_name(_snake(type(self).__name__))
        self.dtype = _ops.np_dtype(dtype or "float32")
        self.trainable = trainable
        self.built = False
        # input_shape excludes the batch axis, as in Keras: Dense(30, input_shape=(8,)).
        self._input_shape = None if input_shape is None else tuple(input_shape)
        self._variables = []
        self._regularized = []     # (variable, regularizer) pairs made by add_weight
        self._losses = []          # values given to add_loss during the current call
        sig = inspect.signature(self.call)
        self._call_takes_training = "training" in sig.parameters
        default = sig.parameters["training"].default if self._call_takes_training else None
        # the position of `training` among call's arguments after the inputs (None: keyword only)
        names = [n for n, p in sig.parameters.items()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self._training_position = names.index("training") - 1 if "training" in names else None
        self._training_default = None if default is inspect.Parameter.empty else default

    # --- weights --------------------------------------------------------------------------------
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True,
                   name=None, regularizer=None, **ignored):
        """Keras 3's order ``add_weight(shape, initializer, dtype, trainable, ..., name)``; a string
        first argument is a name, in TF-Keras 2's order ``add_weight(name, shape, dtype,
        initializer)``."""
        if args and isinstance(args[0], str):
            name, args = args[0], args[1:]
            order = ("shape", "dtype", "initializer")
        else:
            order = ("shape", "initializer", "dtype", "trainable")
        given = dict(shape=shape, initializer=initializer, dtype=dtype, trainable=trainable)
        for key, value in zip(order, args):
            given[key] = value
        shape = given["shape"]
        shape = () if shape is None else (int(shape),) if isinstance(shape, (int, np.integer)) \
            else tuple(int(d) for d in shape)      # an int is a vector's length (TF-Keras 2)
        dtype = _ops.np_dtype(given["dtype"] or self.dtype)
        init = given["initializer"]
        if init is None:
            init = "glorot_uniform" if dtype.kind == "f" else "zeros"
        init = initializers.get(init)
        if isinstance(init, initializers.Initializer):     # numpy values, no Tensor in between
            value = init._values(shape, dtype)
        else:
            value = init(shape, dtype=dtype)
        value = np.asarray(_ops.to_numpy(value), dtype=dtype)
        name = name or "variable"
        v = _ops.make_variable(value, name=f"{self.name}/{name}", trainable=given["trainable"])
        self._variables.append(v)
        if regularizer is not None:
            self._regularized.append((v, regularizers.get(regularizer)))
        return v

    def add_loss(self, loss):
        """A loss term (e.g. an activity penalty) computed in ``call``; kept until the next
        call of the outermost layer, listed in ``losses``."""
        self._losses.append(loss)

    @property
    def losses(self):
        """The add_loss terms of the last call and the weight penalties (evaluated now, with
        recorded ops), of this layer and every layer below it."""
        out = []
        for layer in [self] + self._flatten_layers():
            out += list(layer._losses)
            out += [reg(v) for v, reg in layer._regularized]
        return out

    def _tracked(self):
        """(own variables, sub-layers) in assignment order, each once."""
        cache = self.__dict__.get("_track_cache")
        if cache is not None and cache[0] == _generation[0]:
            return cache[1]
        own, layers, seen = [], [], {id(self)}
        for v in self._variables:
            if id(v) not in seen:
                seen.add(id(v))
                own.append(v)
        stack = [val for key, val in vars(self).items()
                 if key != "_variables" and key not in _UNTRACKED]
        while stack:
            item = stack.pop(0)
            if id(item) in seen:
                continue
            if isinstance(item, Layer):
                seen.add(id(item))
                layers.append(item)
            elif isinstance(item, _ops.Variable):
                seen.add(id(item))
                own.append(item)
            elif isinstance(item, (list, tuple)):
                stack[:0] = list(item)
            elif isinstance(item, dict):
                stack[:0] = list(item.values())
        self._track_cache = (_generation[0], (own, layers))
        return own, layers

    @property
    def layers(self):
        return list(self._tracked()[1])

    def _flatten_layers(self):
        """Every layer below this one, depth first, each once."""
        out, seen, todo = [], set(), list(self.layers)
        while todo:
            layer = todo.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            todo[:0] = layer.layers
        return out

    def _weight_lists(self):
        """(all weights, trainable weights), cached until the tracked structure changes."""
        cache = self.__dict__.get("_weights_cache")
        if cache is not None and cache[0] == _generation[0]:
            return cache[1]
        own, layers = self._tracked()
        out, seen = list(own), {id(v) for v in own}
        trainable = [v for v in own if v.trainable] if self.trainable else []
        seen_t = {id(v) for v in trainable}
        for layer in layers:
            every, train = layer._weight_lists()
            for v in every:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
            if self.trainable:
                for v in train:
                    if id(v) not in seen_t:
                        seen_t.add(id(v))
                        trainable.append(v)
        self._weights_cache = (_generation[0], (out, trainable))
        return out, trainable

    @property
    def weights(self):
        return list(self._weight_lists()[0])

    variables = weights

    @property
    def trainable_weights(self):
        return list(self._weight_lists()[1])

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    non_trainable_variables = non_trainable_weights

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, values):
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(f"Layer {self.name!r} expects {len(weights)} weight(s), "
                             f"received {len(values)}")
        for v, value in zip(weights, values):
            if tuple(np.shape(value)) != tuple(v.shape):
                raise ValueError(f"Layer {self.name!r} weight shape {tuple(v.shape)} is not "
                                 f"compatible with provided weight shape {np.shape(value)}")
            _ops.assign(v, np.asarray(value, dtype=_ops.np_dtype(v.dtype)))

    def count_params(self):
        return sum(int(np.prod(v.shape)) for v in self.weights)

    # --- building and calling -------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True

    def __call__(self, inputs, *args, training=None, **kwargs):
        if is_symbolic(inputs):
            return call_symbolic(self, inputs, args, kwargs, training)
        pos = self._training_position
        if pos is not None and len(args) > pos:           # layer(x, True)
            training, args = args[pos], args[:pos] + args[pos + 1:]
        if self._convert_inputs:
            inputs = _convert(inputs, self.dtype)
        if not self.built:
            self._maybe_build(_shapes(inputs))
        if training is None and _context.training:
            training = _context.training[-1]
        if training is None:
            training = self._training_default
        if self._call_takes_training:
            kwargs["training"] = training
        if not _context.training:          # the outermost call: forget the last call's add_loss
            for layer in [self] + self._flatten_layers():
                layer._losses = []
        _context.training.append(training)
        try:
            return self.call(inputs, *args, **kwargs)
        finally:
            _context.training.pop()

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        """By running the layer on zeros (batch 1) with every tape paused."""
        return shape_by_running(self, input_shape)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _may_track(value):
    return isinstance(value, (Layer, _ops.Variable, list, tuple, dict))


def _convert(inputs, dtype):
    """Layer inputs as Tensors: numpy data converted in the layer's dtype without recording
    (Keras-style autocast), float Tensors of another dtype through a recorded cast; structures
    (lists, tuples, dicts) leaf by leaf."""
    if isinstance(inputs, (list, tuple)) and not _is_number_list(inputs):
        return type(inputs)(_convert(x, dtype) for x in inputs)
    if isinstance(inputs, dict):
        return {k: _convert(v, dtype) for k, v in inputs.items()}
    if inputs is None:
        return None
    return _ops.to_input(inputs, dtype)


def _is_number_list(x):
    """A (nested) list of Python numbers: one input's data, not a list of inputs."""
    if isinstance(x, (list, tuple)):
        return all(_is_number_list(v) for v in x)
    return isinstance(x, (int, float, bool, np.number))


def _shapes(inputs):
    if isinstance(inputs, (list, tuple)):
        return [_shapes(x) for x in inputs]
    if isinstance(inputs, dict):
        return {k: _shapes(v) for k, v in inputs.items()}
    return tuple(inputs.shape)


def _snake(name):
    out = "".join("_" + c.lower() if c.isupper() and i and not name[i - 1].isupper() else
                  c.lower() for i, c in enumerate(name))
    return out.replace("2_d", "2d")
