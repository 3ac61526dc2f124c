"""Seed 002: Python control flow is simply recorded as it runs (x^3 or x^2 depending on y)."""
import tapeflow as tf


def f(x, y):
    output = 1.0
    for i in range(y):
        if i > 1 and i < 5:
            output = tf.multiply(output, x)
    return output

def grad(x, y):
    with tf.GradientTape() as t:
        t.watch(x)
        out = f(x, y)
    return t.gradient(out, x)

x = tf.convert_to_tensor(2.0)
assert grad(x, 6).numpy() == 12.0
assert grad(x, 5).numpy() == 12.0
assert grad(x, 4).numpy() == 4.0
print(grad(x, 6), grad(x, 5), grad(x, 4))  # added: the notebook only asserts
