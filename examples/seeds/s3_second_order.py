"""Seed 003 §10.3.2 In[38]: second derivatives of f(x, y) = x^2 + 2y^2 + 1 with nested persistent tapes."""
import tapeflow as tf

x = tf.Variable(3.)
y = tf.Variable(4.)

with tf.GradientTape(persistent=True) as tape2:

    with tf.GradientTape(persistent=True) as tape1:
        f = tf.square(x)+2*tf.square(y)+1

        first_grads = tape1.gradient(f, [x,y])

    second_grads=[tape2.gradient(first_grads, [x,y])]

print(f)
print(first_grads)
print(second_grads)

del tape1
del tape2
