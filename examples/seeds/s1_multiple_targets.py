"""Seed 001 §二.4: a list of targets is differentiated as their sum (3 + 2x = 13 at x = 5)."""
import tapeflow as tf

x = tf.Variable(5.0)
with tf.GradientTape() as tape:
    z1 = 3 * x
    z2 = x ** 2
print(tape.gradient([z1, z2], x))
