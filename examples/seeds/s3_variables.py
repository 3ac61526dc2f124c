"""Seed 003 §10.3.1: creating trainable Variables, their attributes, assign/assign_add, isinstance.

The seed is a Jupyter notebook; each `Out[n]` display is printed here with print(repr(...)).
In[22]/In[23] show AttributeErrors (a constant has no assign / trainable): caught and printed.
"""
import tapeflow as tf
print("TensorFlow version:", tf.__version__)

import numpy as np

print(repr(tf.Variable(3)))                                  # In [3]
print(repr(tf.Variable([1, 2])))                             # In [4]
print(repr(tf.Variable(np.array([1, 2]))))                   # In [5]
print(repr(tf.Variable(3.)))                                 # In [6]
print(repr(tf.Variable([1,2],dtype=tf.float64)))             # In [7]
print(repr(tf.Variable(tf.constant([[1, 2], [3, 4]]))))      # In [8]
print(repr(tf.Variable(tf.zeros([2, 3]))))                   # In [9]
print(repr(tf.Variable(tf.random.normal([2, 2]))))           # In [10] (random values)

x=tf.Variable([1,2])                                         # In [11]
print(repr(x))                                               # In [12]
print(x.shape, x.dtype)                                      # In [13]
print(x.numpy())                                             # In [14]
print(repr(x.trainable))                                     # In [15]
print(repr(type(x)))                                         # In [16]

x=tf.Variable([1,2])                                         # In [17]
print(repr(x.assign([3,4])))                                 # In [18]
print(repr(x.assign_add([1,1])))                             # In [19]
print(repr(x.assign_add([1,1])))                             # In [20]

a=tf.constant(2)                                             # In [21]
try:
    a.assign(3)                                              # In [22]
except AttributeError as ex:
    print("AttributeError:", ex)
try:
    a.trainable                                              # In [23]
except AttributeError as ex:
    print("AttributeError:", ex)

a=tf.range(5)                                                # In [22] (the seed reuses numbers)
x=tf.Variable(a)                                             # In [23]
print((isinstance(a, tf.Tensor), isinstance(a, tf.Variable)))  # In [24]
print((isinstance(x, tf.Tensor), isinstance(x, tf.Variable)))  # In [25]
