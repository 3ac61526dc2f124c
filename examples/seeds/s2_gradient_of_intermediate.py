"""Seed 002: the derivative with respect to an intermediate value y = sum(x): dz/dy = 2y = 8."""
import tapeflow as tf

x = tf.ones((2, 2))
with tf.GradientTape() as t:
    t.watch(x)
    y = tf.reduce_sum(x)
    z = tf.multiply(y, y)
# Use the tape to compute the derivative of z with respect to the
# intermediate value y.
dz_dy = t.gradient(z, y)
assert dz_dy.numpy() == 8.0
print(dz_dy)  # added: the notebook only asserts
