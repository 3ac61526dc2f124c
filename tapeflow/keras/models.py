"""``keras.Model`` (subclassed, or functional from ``keras.Input``) and ``Sequential``.

A subclassed model is a Layer whose ``call`` the user writes; the layers and variables it holds
as attributes are tracked (base_layer.py). ``Model(inputs, outputs)`` replays the functional
graph (functional.py). ``compile`` / ``fit`` / ``evaluate`` / ``predict``: training.py.
"""
from . import _ops
from .base_layer import Layer
from .functional import Graph, KerasTensor
from .training import TrainingMixin


class Model(TrainingMixin, Layer):
    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if (inputs is None) != (outputs is None):
            raise ValueError("A functional Model needs both `inputs` and `outputs`")
        super().__init__(**kwargs)
        self._graph = None
        if inputs is not None:
            self._graph = Graph(inputs, outputs)
            self._convert_inputs = False
            self._functional_layers = self._graph.layers   # tracked, in call order
            self.built = True

    @property
    def inputs(self):
        return None if self._graph is None else self._graph.input_leaves

    @property
    def outputs(self):
        return None if self._graph is None else self._graph.outputs

    def call(self, inputs, training=None):
        if self._graph is None:
            raise NotImplementedError(f"Model {type(self).__name__} has no call(): when "
                                      f"subclassing `Model`, implement `call(self, inputs)`.")
        return self._graph.run(inputs)

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in layers]}.")

    def summary(self, print_fn=print):
        print_fn(f'Model: "{self.name}"')
        for layer in self.layers:
            print_fn(f"  {layer.name:<24} {type(layer).__name__:<20} "
                     f"params={layer.count_params()}")
        trainable = sum(int(_size(v)) for v in self.trainable_weights)
        total = self.count_params()
        print_fn(f"Total params: {total}")
        print_fn(f"Trainable params: {trainable}")
        print_fn(f"Non-trainable params: {total - trainable}")


def _size(v):
    n = 1
    for d in v.shape:
        n *= int(d)
    return n


class Sequential(Model):
    """A stack of layers called in order (each gets the previous one's output)."""

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name or _ops.unique_name("sequential"), trainable=trainable)
        self._layers = []
        self._input_spec = None
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, KerasTensor):      # Sequential([keras.Input(shape=(3,)), ...])
            self._input_spec = layer.shape
            self._build_from_known_shapes()
            return
        if not callable(layer):
            raise TypeError(f"Sequential.add expects a layer, got {layer!r}")
        self._layers.append(layer)
        # A layer built from input_shape lets the following layers build right away.
        self._build_from_known_shapes()

    def pop(self):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        return self._layers.pop()

    def _known_input_shape(self):
        if self._input_spec is not None:
            return self._input_spec
        first = self._layers[0] if self._layers else None
        if isinstance(first, Layer) and first._input_shape is not None:
            return (None,) + tuple(first._input_shape)
        return None

    def _build_from_known_shapes(self):
        shape = self._known_input_shape()
        if shape is None or not self._layers:
            return
        for layer in self._layers:
            if not isinstance(layer, Layer):
                return
            layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def build(self, input_shape=None):
        """``model.build((None, 3))``: build every layer for that input shape."""
        if input_shape is not None:
            self._input_spec = tuple(input_shape)
            self._build_from_known_shapes()
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._layers:
            x = layer(x)      # the training flag reaches each layer through the call context
        return x
