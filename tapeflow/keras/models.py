"""Sequential: a stack of layers called in order."""
from . import _ops
from .layers import Layer


class Sequential(Layer):
    def __init__(self, layers=None, name=None):
        super().__init__(name=name or _ops.unique_name("sequential"))
        self.layers = []
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        if not callable(layer):
            raise TypeError(f"Sequential.add expects a layer, got {layer!r}")
        self.layers.append(layer)
        # A layer built from input_shape lets the following layers build right away.
        self._build_from_known_shapes()

    def _build_from_known_shapes(self):
        if not self.layers or not getattr(self.layers[0], "built", False):
            return
        shape = (None,) + tuple(self.layers[0]._input_shape or ())
        if self.layers[0]._input_shape is None:
            return
        for layer in self.layers:
            if not isinstance(layer, Layer):
                return
            layer._maybe_build(shape)
            if not hasattr(layer, "compute_output_shape"):
                return
            shape = layer.compute_output_shape(shape)
        self.built = True

    def __call__(self, inputs):
        x = inputs
        for layer in self.layers:
            x = layer(x)
        self.built = True
        return x

    call = __call__

    @property
    def variables(self):
        # Ordered layer by layer (kernel, bias), like Keras.
        return [v for layer in self.layers for v in getattr(layer, "variables", ())]

    weights = variables

    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        return [v for layer in self.layers for v in getattr(layer, "trainable_variables", ())]

    trainable_weights = trainable_variables

    def summary(self, print_fn=print):
        print_fn(f'Model: "{self.name}"')
        total = 0
        for layer in self.layers:
            n = layer.count_params() if isinstance(layer, Layer) else 0
            total += n
            units = getattr(layer, "units", "?")
            print_fn(f"  {layer.name:<20} {type(layer).__name__:<8} units={units:<6} params={n}")
        print_fn(f"Total params: {total}")
