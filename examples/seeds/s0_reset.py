"""Seed 000, reset(): a fresh tape only sees what was computed after it started."""
import tapeflow as tf
x=tf.Variable(initial_value=[1.,2.,3,])
with tf.GradientTape() as t:
  loss = tf.pow(x,2)
with tf.GradientTape() as t:
  loss += x;
z=t.gradient(loss, x)  # Only differentiates other_loss_fn, not loss_fn
print(z)

# The following is equivalent to the above
with tf.GradientTape() as t:
  loss = tf.pow(x,2)#调用了reset,这里的记录会被清除
  #t.reset()注释,loss=x*x+x,不注释,会将x*x的记录清除,loss=x
  loss += x
z=t.gradient(loss, x)  # Only differentiates other_loss_fn, not loss_fn
print(z)
