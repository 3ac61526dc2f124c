"""tapeflow.runtime: the TensorFlow-style eager runtime (Tensor, Variable, GradientTape, ops).

It depends on nothing else in the project; the compiler reads its derivative rules.
"""
