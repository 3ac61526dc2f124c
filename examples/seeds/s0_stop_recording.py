"""Seed 000, stop_recording(): the same computation with and without the stop_recording block."""
import tapeflow as tf

# Without stop_recording: the persistent tape also records y += x (gradient 2x + 1 = 9).
x = tf.Variable(4.0)
with tf.GradientTape(persistent=True) as tape:
    y = tf.pow(x, 2)
    z=tape.gradient(y,x)
    #with tape.stop_recording():# The gradient computation below is not traced, saving memory.
    y+=x
    dy_dx = tape.gradient(y, x)
print(z)
print(dy_dx)

# With stop_recording: y += x is not recorded, so the new y has no gradient (None).
x = tf.Variable(4.0)
with tf.GradientTape(persistent=True) as tape:
    y = tf.pow(x, 2)
    z=tape.gradient(y,x)
    with tape.stop_recording():# The gradient computation below is not traced, saving memory.
        y+=x
        dy_dx = tape.gradient(y, x)
print(z)
print(dy_dx)
