"""tapeflow.keras: the Keras subset the seeds' training loops use.

Dense / Sequential, SGD / Adam, mean_squared_error, the MeanSquaredError metric. Everything is built
from tapeflow.runtime ops, so a model called inside a GradientTape is differentiated by the tape.
"""
from . import activations, initializers, layers, losses, metrics, models, optimizers
from .models import Sequential

__version__ = "0.1.0"

__all__ = ["activations", "initializers", "layers", "losses", "metrics", "models", "optimizers",
           "Sequential"]
