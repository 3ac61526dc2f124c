"""Seed 001 §二.6.3: the same descent through keras.optimizers.SGD (old `lr=` keyword, as the seed)."""
import tapeflow as tf
from tapeflow import keras


def f(x):
    return 3. * x ** 2 + 2. * x - 1

learning_rate = 0.1
x = tf.Variable(0.0)

# 实例化optimizer对象
optimizer = keras.optimizers.SGD(lr = learning_rate)

for _ in range(100):
    with tf.GradientTape() as tape:
        z = f(x)
    # 求得x在函数中当前的导数
    dz_dx = tape.gradient(z, x)
    # 向optimizer优化器传入求得的导数和x值,更新x数值
    optimizer.apply_gradients([(dz_dx, x)])	# 梯度在前,变量在后。
print(x)
