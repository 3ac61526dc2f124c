"""Seed 000, several sources and output_gradients (per-element weights on the target)."""
import tapeflow as tf

x = tf.Variable(initial_value=[1.0, 2.0, 3.0])
y = tf.Variable(initial_value=[2.0, 4.0, 6.0])

with tf.GradientTape(persistent=True) as g:
    g.watch(x)
    g.watch(y)
    z = tf.pow(x, 2) + tf.pow(y, 2)

output_gradients = tf.Variable([0.2, 0.6, 0.2])#输出结果相乘的系数
dz = g.gradient(z, [x, y], output_gradients=output_gradients)  # 给每一个元素施加不同的权重
print(dz)
'''运行结果为:
[<tf.Tensor: id=64, shape=(3,), dtype=float32, numpy=array([0.4, 2.4, 1.2],
  dtype=float32)>,
 <tf.Tensor: id=40, shape=(3,), dtype=float32, numpy=array([0.8, 4.8, 2.4],
  dtype=float32)>]
'''
'''
本来的结果是dz_dx=[2,4,6], 分别乘以权重[0.2,0.6,0.2]之后,得到[0.4,2.4,1.2]
本来的结果是dz_dy=[4,8,12],分别乘以权重[0.2,0.6,0.2]之后,得到[0.8,4.8,2.4]
'''
