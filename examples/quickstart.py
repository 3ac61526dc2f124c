"""tapeflow in one screen: a GradientTape like TensorFlow's, and gradients of plain numpy code."""
import numpy as np

import tapeflow as tf

# 1. The eager tape: operations on watched values are recorded, then replayed backwards.
x = tf.Variable(3.0)
with tf.GradientTape() as tape:
    y = x * x + 2.0 * x                 # y = x^2 + 2x
print("y =", y.numpy(), " dy/dx =", tape.gradient(y, x).numpy())        # 15.0, 2x + 2 = 8.0

# Second derivative: differentiate the inner gradient with an outer tape.
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        y = x ** 3
    dy = inner.gradient(y, x)           # 3x^2 = 27
print("d2y/dx2 of x^3 at 3 =", outer.gradient(dy, x).numpy())           # 6x = 18.0


# 2. The compiler: the gradient of an ordinary numpy function, generated from its source.
def f(w):
    return np.sum(np.sin(w) * w)        # df/dw = sin(w) + w cos(w)


w = np.array([0.5, 1.0, 2.0])
try:
    from tapeflow import grad, source
    df = grad(f)
    print("grad f(w) =", df(w), " expected", np.sin(w) + w * np.cos(w))
    print(source(df))                   # the generated gradient: plain, readable Python
except ImportError as ex:               # a compiler part is not in this build yet
    print(f"tapeflow.grad unavailable ({ex}); expected", np.sin(w) + w * np.cos(w))
