"""tapeflow.keras: the Keras subset of TensorFlow's guides and the seeds' training loops.

Layers (Dense, Conv2D, pooling, BatchNormalization, Dropout, Flatten, Lambda, merging), Model
(subclassed or functional from keras.Input), Sequential, initializers by name or class,
optimizers, losses, metrics. Everything is built from tapeflow.runtime ops, so a model called
inside a GradientTape is differentiated by the tape.
"""
from . import (activations, initializers, layers, losses, metrics, models, optimizers,
               regularizers)
from .base_layer import Layer
from .functional import Input, KerasTensor
from .models import Model, Sequential

__version__ = "0.1.0"

__all__ = ["activations", "initializers", "layers", "losses", "metrics", "models", "optimizers",
           "regularizers", "Input", "KerasTensor", "Layer", "Model", "Sequential"]
