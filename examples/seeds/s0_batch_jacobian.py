"""Seed 000, batch_jacobian of y = x * x (the seed gives the value in a comment; we print it)."""
import tapeflow as tf

with tf.GradientTape() as g:

  x = tf.constant([[1., 2.], [3., 4.]], dtype=tf.float32)

  g.watch(x)

  y = x * x#一阶导数是2*x

batch_jacobian = g.batch_jacobian(y, x)

# batch_jacobian is [[[2,  0], [0,  4]], [[6,  0], [0,  8]]]
print(batch_jacobian)  # added: the seed only states the value in the comment above
