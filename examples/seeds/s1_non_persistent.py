"""Seed 001 §二.1.1: a non-persistent tape answers one gradient() call; the second one raises.

The seed shows TF 2.0's message "GradientTape.gradient can only be called once on non-persistent
tapes."; tapeflow raises with current TensorFlow's text ("A non-persistent GradientTape can only be
used to compute one set of gradients (or jacobians)").
"""
import tapeflow as tf


def g(x1, x2):
    return (x1 + 5) * (x2 ** 2)

x1 = tf.Variable(2.0)
x2 = tf.Variable(3.0)
with tf.GradientTape(persistent=False,watch_accessed_variables=True) as tape:
    z = g(x1, x2)

dz_x1 = tape.gradient(target=z, sources=x1)
print(dz_x1)

try:
    dz_x2 = tape.gradient(target=z,sources=x2)
except RuntimeError as ex:
    print(ex)

try:
    dz_x2 = tape.gradient(z, x2)
except RuntimeError as ex:
    print(ex)
