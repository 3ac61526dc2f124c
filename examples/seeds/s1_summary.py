"""Seed 001 §一.3 "总结代码": library versions, then the two approximate derivatives.

Dropped from the seed (not dependencies of tapeflow): the matplotlib, sklearn and pandas imports, and
those three modules in the version-printing loop.
"""
import numpy as np
import os
import sys
import time
import tapeflow as tf
from tapeflow import keras

# 1,打印使用的python库的版本信息
print(tf.__version__)
print(sys.version_info)
for module in np, tf, keras:  # seed: mpl, np, pd, sklearn, tf, keras
    print(module.__name__, module.__version__)

# 2,对一元方程的近似求导
def f(x):
    return 3. * x ** 2 + 2. * x - 1

def approximate_derivative(f, x, eps=1e-3):
    return (f(x + eps) - f(x - eps)) / (2. * eps)

print(approximate_derivative(f, 1.))


# 3,对二元方程的近似求导
def g(x1, x2):
    return (x1 + 5) * (x2 ** 2)

def approximate_gradient(g, x1, x2, eps=1e-3):
    dg_x1 = approximate_derivative(lambda x: g(x, x2), x1, eps)
    dg_x2 = approximate_derivative(lambda x: g(x1, x), x2, eps)
    return dg_x1, dg_x2

print(approximate_gradient(g, 2., 3.))
