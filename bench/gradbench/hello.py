"""GradBench ``hello``: square(x) = x * x, and double(x), its derivative, from tapeflow."""
import tapeflow as tf

from .runs import measured


def square_of(x):
    return x * x


square = measured(tf.jit(square_of), lambda input: (float(input),), float, runs=False)
double = measured(tf.grad(square_of, backend="native"), lambda input: (float(input),), float,
                  runs=False)
