"""Seed 001 §二.6: gradient descent on f(x) = 3x^2 + 2x - 1 by hand (assign_sub), minimum at x = -1/3.

Dropped from the seed: the matplotlib plot of f (plt.grid / plt.plot); the numpy sampling of f that
fed the plot is kept.
"""
import numpy as np
import tapeflow as tf


# 1) 模拟损失函数
def f(x):
    return 3. * x ** 2 + 2. * x - 1

def sigmoid(x):
    return 3 * x ** 2 + 2 * x - 1

x = np.arange(-5., 5., 0.2)
y = sigmoid(x)
# plt.grid(True); plt.plot(x, y)  -- dropped (matplotlib)


# 2) 实现简单的梯度下降算法
def f(x):
    return 3. * x ** 2 + 2. * x - 1

learning_rate = 0.1
x = tf.Variable(0.0)

for _ in range(1000):
    with tf.GradientTape() as tape:
        z = f(x)
    dz_dx = tape.gradient(z, x)
    x.assign_sub(learning_rate * dz_dx)
print(x)
