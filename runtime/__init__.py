"""tapeflow.runtime: the TensorFlow-style eager runtime (Tensor, Variable, GradientTape, ops).

It depends on nothing else in the project; the compiler reads its derivative rules.
"""
import types as _types

from . import dtypes
from .dtypes import (DType, as_dtype, float16, float32, float64, bfloat16, half, double, int8,
                     int16, int32, int64, uint8, uint16, uint32, uint64, bool, string, complex64,
                     complex128)
from .tensor import Tensor, TensorShape, constant, convert_to_tensor, is_tensor, InvalidArgumentError
from .tape import GradientTape, UnconnectedGradients
from .indexed_slices import IndexedSlices
from .variable import Variable
from . import math_ops, array_ops, operators, numpy_dispatch  # noqa: F401 (attach Tensor methods)
from .math_ops import (add, subtract, multiply, divide, truediv, realdiv, pow, maximum, minimum,
                       negative, identity, square, sqrt, rsqrt, reciprocal, exp, expm1, log, log1p,
                       sin, cos, tan, tanh, asin, acos, atan, atan2, sinh, cosh, sigmoid, abs, sign,
                       floor, ceil, round, equal, not_equal, less, less_equal, greater,
                       greater_equal, logical_and, logical_or, logical_not, logical_xor, floordiv,
                       floormod, mod, squared_difference, scalar_mul, divide_no_nan, add_n, where,
                       clip_by_value, cast, saturate_cast, reduce_sum, reduce_mean, reduce_prod,
                       reduce_max, reduce_min, reduce_any, reduce_all, reduce_logsumexp,
                       reduce_variance, reduce_std, count_nonzero, argmax, argmin, cumsum, matmul,
                       tensordot, norm, is_nan, is_inf, is_finite, clip_by_norm,
                       clip_by_global_norm, global_norm, einsum)
from .array_ops import (reshape, transpose, squeeze, expand_dims, broadcast_to, tile, reverse,
                        concat, stack, unstack, split, gather, gather_nd, boolean_mask,
                        stop_gradient, pad, sort, argsort, unique, scatter_nd,
                        tensor_scatter_nd_add, tensor_scatter_nd_update, unsorted_segment_sum,
                        segment_sum, segment_mean, diag_part, diag, top_k)
from .factory_ops import (zeros, ones, fill, zeros_like, ones_like, range, linspace, eye, one_hot,
                          shape, size, rank)
from .module import Module
from .forward import ForwardAccumulator
from .eager import print, function, executing_eagerly, TensorSpec  # noqa: A004
from .custom import (custom_gradient, RegisterGradient, no_gradient, NotDifferentiable,
                     unregister_gradient, gradients, grad_pass_through, recompute_grad)
from . import nn
from . import nest as _nest_mod
from .entry_ops import (cholesky, eigh, svd, qr, logdet, matvec, cumprod, roll, repeat, erfc,
                        lgamma, digamma, polygamma, xlogy, searchsorted, meshgrid, identity_n)
from .control_flow import cond, while_loop, switch_case, map_fn, vectorized_map
from . import random_ops as random
from .gradcheck import numerical_gradient, check_gradient


def _namespace(name, doc, **members):
    m = _types.ModuleType(name, doc)
    m.__dict__.update(members)
    m.__all__ = sorted(members)
    return m


math = _namespace(
    "tapeflow.math", "tf.math: elementwise math and reductions.",
    **{k: getattr(math_ops, k) for k in (
        "add", "subtract", "multiply", "divide", "truediv", "pow", "maximum", "minimum", "negative",
        "square", "sqrt", "rsqrt", "reciprocal", "exp", "expm1", "log", "log1p", "sin", "cos",
        "tan", "tanh", "asin", "acos", "atan", "atan2", "sinh", "cosh", "sigmoid", "abs", "sign",
        "floor", "ceil", "round", "equal", "not_equal", "less", "less_equal", "greater",
        "greater_equal", "logical_and", "logical_or", "logical_not", "logical_xor", "floordiv",
        "floormod", "mod", "squared_difference", "scalar_mul", "divide_no_nan", "add_n",
        "reduce_sum", "reduce_mean", "reduce_prod", "reduce_max", "reduce_min", "reduce_any",
        "reduce_all", "reduce_logsumexp", "reduce_variance", "reduce_std",
        "reduce_euclidean_norm", "count_nonzero", "argmax", "argmin", "cumsum", "softplus",
        "is_nan", "is_inf", "is_finite", "l2_normalize", "global_norm", "erf")},
    log_sigmoid=lambda x, name=None: -math_ops.softplus(-convert_to_tensor(x)),
    softmax=nn.softmax, top_k=array_ops.top_k, segment_sum=array_ops.segment_sum,
    segment_mean=array_ops.segment_mean, unsorted_segment_sum=array_ops.unsorted_segment_sum,
    log_softmax=nn.log_softmax, cumprod=cumprod, xlogy=xlogy, lgamma=lgamma, digamma=digamma,
    polygamma=polygamma, erfc=erfc)
linalg = _namespace("tapeflow.linalg", "tf.linalg: matrix ops.", matmul=matmul, einsum=einsum,
                    matrix_transpose=array_ops.matrix_transpose, transpose=array_ops.matrix_transpose,
                    norm=norm, eye=eye, tensordot=tensordot, l2_normalize=math_ops.l2_normalize,
                    inv=math_ops.matrix_inverse, det=math_ops.matrix_determinant,
                    solve=math_ops.matrix_solve, trace=math_ops.trace,
                    diag=array_ops.diag, diag_part=array_ops.diag_part, matvec=matvec,
                    cholesky=cholesky, eigh=eigh, svd=svd, qr=qr, logdet=logdet)
autodiff = _namespace("tapeflow.autodiff", "tf.autodiff", GradientTape=GradientTape,
                      ForwardAccumulator=ForwardAccumulator)
nest = _namespace("tapeflow.nest", "tf.nest", **{k: getattr(_nest_mod, k) for k in (
    "flatten", "pack_sequence_as", "map_structure", "is_nested", "assert_same_structure")})
errors = _namespace("tapeflow.errors", "tf.errors", InvalidArgumentError=InvalidArgumentError)

newaxis = None

__all__ = [
    # types and values
    "DType", "as_dtype", "dtypes", "Tensor", "TensorShape", "Variable", "constant",
    "convert_to_tensor", "is_tensor", "InvalidArgumentError", "newaxis",
    "float16", "float32", "float64", "bfloat16", "half", "double", "int8", "int16", "int32",
    "int64", "uint8", "uint16", "uint32", "uint64", "bool", "string", "complex64", "complex128",
    # differentiation
    "GradientTape", "UnconnectedGradients", "custom_gradient", "stop_gradient",
    "RegisterGradient", "no_gradient", "NotDifferentiable", "unregister_gradient", "gradients",
    "numerical_gradient", "check_gradient", "grad_pass_through", "recompute_grad",
    # namespaces
    "nn", "math", "random", "linalg", "autodiff", "errors", "nest",
    # control flow and more ops
    "cond", "while_loop", "switch_case", "map_fn", "vectorized_map", "identity_n", "repeat",
    "roll", "searchsorted", "meshgrid", "IndexedSlices", "TensorSpec",
    # math
    "add", "subtract", "multiply", "divide", "truediv", "realdiv", "pow", "maximum", "minimum",
    "negative", "identity", "square", "sqrt", "rsqrt", "reciprocal", "exp", "expm1", "log",
    "log1p", "sin", "cos", "tan", "tanh", "asin", "acos", "atan", "atan2", "sinh", "cosh",
    "sigmoid", "abs", "sign", "floor", "ceil", "round", "equal", "not_equal", "less",
    "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_not",
    "logical_xor", "floordiv", "floormod", "mod", "squared_difference", "scalar_mul",
    "divide_no_nan", "add_n", "where", "clip_by_value", "cast", "saturate_cast", "reduce_sum",
    "reduce_mean", "reduce_prod", "reduce_max", "reduce_min", "reduce_any", "reduce_all",
    "reduce_logsumexp", "reduce_variance", "reduce_std", "count_nonzero", "argmax", "argmin",
    "cumsum", "matmul", "tensordot", "norm", "is_nan", "is_inf", "is_finite",
    # arrays
    "reshape", "transpose", "squeeze", "expand_dims", "broadcast_to", "tile", "reverse", "concat",
    "stack", "unstack", "split", "gather", "gather_nd", "boolean_mask", "zeros", "ones", "fill",
    "zeros_like", "ones_like", "range", "linspace", "eye", "one_hot", "shape", "size", "rank",
    "pad", "sort", "argsort", "unique", "Module", "einsum", "scatter_nd", "tensor_scatter_nd_add",
    "tensor_scatter_nd_update", "clip_by_norm", "clip_by_global_norm",
    # eager conveniences
    "print", "function", "executing_eagerly",
]
