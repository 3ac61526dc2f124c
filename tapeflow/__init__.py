"""tapeflow: gradients of ordinary Python/numpy functions, as readable Python and as native code.

``import tapeflow as tf`` also gives the TensorFlow-style eager API (GradientTape, Variable, ops).
"""
__version__ = "0.1.0"
