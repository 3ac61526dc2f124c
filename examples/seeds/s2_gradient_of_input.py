"""Seed 002 (TF 2.0 beta tutorial "自动微分"): d(sum(x)^2)/dx for x = ones((2, 2)) is 8 everywhere.

The web copy of this notebook lost its indentation; it is restored here. `!pip install` is dropped.
"""
import tapeflow as tf

x = tf.ones((2, 2))
with tf.GradientTape() as t:
    t.watch(x)
    y = tf.reduce_sum(x)
    z = tf.multiply(y, y)
# Derivative of z with respect to the original input tensor x
dz_dx = t.gradient(z, x)
for i in [0, 1]:
    for j in [0, 1]:
        assert dz_dx[i][j].numpy() == 8.0
print(dz_dx)  # added: the notebook only asserts
