"""tapeflow in one screen: gradients of plain numpy code, and a GradientTape like TensorFlow's."""
import numpy as np

import tapeflow as tf


# 1. The compiler: the gradient of an ordinary function, generated from its source.
def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


x = np.array([0.5, 1.0, 1.5])
drosen = tf.grad(rosenbrock)
print("grad rosenbrock(x) =", drosen(x))                     # [-151.  -50.  100.]
print(tf.explain(rosenbrock, x))                             # which backend ran: native
print(tf.source(drosen))                                     # the generated gradient, as Python

value, dx = tf.value_and_grad(rosenbrock)(x)
numeric, = tf.check_gradient(rosenbrock, (x,), (dx,))      # raises if they disagree
print("value =", value, " central differences:", np.round(numeric, 6))


# 2. The eager tape: operations on watched values are recorded, then replayed backwards.
w = tf.Variable(3.0)
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        y = w ** 3
    dy = inner.gradient(y, w)                                # 3 w^2 = 27
print("y =", y.numpy(), " dy/dw =", dy.numpy(), " d2y/dw2 =", outer.gradient(dy, w).numpy())
