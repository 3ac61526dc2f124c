"""Seed 003 §10.3.2: y = x^2 at 3 with GradientTape; persistent tapes; watch_accessed_variables; watch().

In[30] shows the RuntimeError of a second gradient() call on a non-persistent tape; the seed shows TF
2.0's message "GradientTape.gradient can only be called once on non-persistent tapes.", tapeflow
raises with current TensorFlow's text. It is caught and printed here so that the script goes on.
"""
import tapeflow as tf

# In [26]-[29]
x = tf.Variable(3.)
with tf.GradientTape() as tape:
    y = tf.square(x)
dy_dx = tape.gradient(y, x)
print(y)
print(dy_dx)

# In [30]: non-persistent tape, second gradient() call raises
x = tf.Variable(3.)

with tf.GradientTape() as tape:
    y = tf.square(x)
    z = pow(x, 3)

dy_dx = tape.gradient(y, x)
try:
    dz_dx = tape.gradient(z, x)
except RuntimeError as ex:
    print("RuntimeError:", ex)

# In [31]: persistent tape
x = tf.Variable(3.)

with tf.GradientTape(persistent=True) as tape:
    y = tf.square(x)
    z = pow(x, 3)

dy_dx = tape.gradient(y, x)
dz_dx = tape.gradient(z, x)

print(y)
print(dy_dx)
print(z)
print(dz_dx)

del tape

# In [32]: watch_accessed_variables=False and no watch: no gradient
x = tf.Variable(3.)

with tf.GradientTape(watch_accessed_variables=False) as tape:
    y = tf.square(x)

dy_dx = tape.gradient(y, x)

print(y)
print(dy_dx)

# In [33]: watch() a variable
x = tf.Variable(3.)

with tf.GradientTape(watch_accessed_variables=False) as tape:
    tape.watch(x)
    y = tf.square(x)

dy_dx = tape.gradient(y, x)

print(y)
print(dy_dx)

# In [34]: watch() a constant
x = tf.constant(3.)

with tf.GradientTape(watch_accessed_variables=False) as tape:
    tape.watch(x)
    y = tf.square(x)

dy_dx = tape.gradient(y, x)

print(y)
print(dy_dx)
