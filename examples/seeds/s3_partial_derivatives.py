"""Seed 003 §10.3.2: partial derivatives of f(x, y) = x^2 + 2y^2 + 1 at (3, 4), scalars and vectors."""
import tapeflow as tf

# In [35]
x = tf.Variable(3.)
y = tf.Variable(4.)

with tf.GradientTape() as tape:
    f = tf.square(x) + 2 * tf.square(y) + 1

df_dx, df_dy = tape.gradient(f, [x, y])

print(f)
print(df_dx)
print(df_dy)

# In [36]
x = tf.Variable(3.)
y = tf.Variable(4.)

with tf.GradientTape() as tape:
    f = tf.square(x)+2*tf.square(y)+1

first_grads= tape.gradient(f, [x, y])

print(first_grads)

# In [37]
x = tf.Variable(3.)
y = tf.Variable(4.)

with tf.GradientTape(persistent=True) as tape:
    f = tf.square(x)+2*tf.square(y)+1

df_dx = tape.gradient(f, x)
df_dy = tape.gradient(f, y)

print(f)
print(df_dx)
print(df_dy)

del tape

# In [39]: 对向量求偏导
x = tf.Variable([1., 2., 3.])
y = tf.Variable([4., 5., 6.])

with tf.GradientTape() as tape:
    f = tf.square(x)+2*tf.square(y)+1

df_dx, df_dy = tape.gradient(f, [x, y])

print(f)
print(df_dx)
print(df_dy)
