"""Seed 002: a persistent tape gives dz/dx = 108 (4x^3) and dy/dx = 6 at x = 3."""
import tapeflow as tf

x = tf.constant(3.0)
with tf.GradientTape(persistent=True) as t:
    t.watch(x)
    y = x * x
    z = y * y
dz_dx = t.gradient(z, x) # 108.0 (4*x^3 at x = 3)
dy_dx = t.gradient(y, x) # 6.0
del t # Drop the reference to the tape
print(dz_dx, dy_dx)  # added: the notebook gives the values in comments
