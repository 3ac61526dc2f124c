"""Compile driver: type, lower (with callees), build the entry, JIT, wrap."""
import ast
import copy
import textwrap

from .. import typing as T
from . import engine as jit
from . import fastcall
from .entry import build_entry
from .errors import LoweringError, NativeUnsupported
from .lower import FunctionLowerer
from .module import ModuleContext
from .sink_products import sink_products


SPECIALIZE_CONTIGUOUS = False


def _argument_arrays(ti):
    """Array parameters and the names bound to them or to views of them (an inlined gradient's
    ``x = x``, a row ``w = a[i]``): their inner stride is the argument's."""
    arrays = {p for p, t in zip(ti.params, ti.arg_types) if isinstance(t, T.Array)}
    binds = [(n.targets[0].id, n.value.value if isinstance(n.value, ast.Subscript) else n.value)
             for n in ast.walk(ti.fdef) if isinstance(n, ast.Assign) and len(n.targets) == 1 and
             isinstance(n.targets[0], ast.Name)]
    grown = True
    while grown:
        grown = False
        for target, root in binds:
            if target not in arrays and isinstance(root, ast.Name) and root.id in arrays and \
                    isinstance(ti.names.get(target), T.Array):
                arrays.add(target)
                grown = True
    return arrays


def _element_access(node, t):
    """``a[i]`` / ``a[i, j]``: one element at a position that names a variable. Slices, rows and
    constant positions are not: they go through kernels, which LLVM versions on stride anyway."""
    index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    return (isinstance(t, T.Array) and len(index) == t.ndim and
            not any(isinstance(i, ast.Slice) for i in index) and
            any(isinstance(n, ast.Name) for i in index for n in ast.walk(i)))


def _indexes_arguments_in_loops(ti):
    """Whether a loop reads or writes single elements of an argument array (or of a view of one),
    the case where knowing its unit inner stride lets the loop vectorize."""
    arrays = _argument_arrays(ti)
    for loop in ast.walk(ti.fdef):
        if isinstance(loop, (ast.For, ast.While)):
            for n in ast.walk(loop):
                if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and \
                        n.value.id in arrays and _element_access(n, ti.names.get(n.value.id)):
                    return True
    return False


def lower_callee(mctx, name, arg_types):
    """The LLVM function for module function ``name`` at ``arg_types`` (lowered once per module)."""
    key = (name, tuple(arg_types))
    fl = mctx.functions.get(key)
    if fl is None:
        ti = T.infer(mctx.mfuncs[name], arg_types, mctx.mfuncs, constants=mctx.constants)
        fl = FunctionLowerer(mctx, ti, mctx.unique("tf_fn_" + name))
        mctx.functions[key] = fl
        fl.lower()
    return fl


def lower_body(funcdef, arg_types, *, module_name, triple, data_layout, module_functions=None,
               boundscheck=True, noalias=True, constants=None, blas_dgemm=None, poll=False):
    """Type ``funcdef`` for ``arg_types`` and lower it into a fresh module: the one driver of JIT
    and AOT. Returns (module context, type info, body lowerer). ``noalias=None``: promise
    noalias on array arguments only when the function writes none that another may overlap."""
    # private copies: typing records node identities and may canonicalize calls in place
    fdef = sink_products(copy.deepcopy(T.to_ast(funcdef)))
    mfuncs = {k: copy.deepcopy(T.to_ast(v)) for k, v in (module_functions or {}).items()}
    ti = T.infer(fdef, arg_types, mfuncs, constants=constants)
    # parameters the caller guarantees to be shaped like another (a tangent like its primal:
    # compiler/forward.py sets this, and its JIT caller checks it before every call)
    ti.same_shape = dict(getattr(funcdef, "same_shape", None) or {})
    mctx = ModuleContext(module_name, mfuncs, boundscheck)
    mctx.constants = constants or {}
    mctx.blas_dgemm = blas_dgemm
    mctx.poll = poll
    mctx.module.triple = triple
    mctx.module.data_layout = data_layout
    if noalias is None:
        noalias = not (ti.written_params and sum(isinstance(t, T.Array) for t in arg_types) > 1)
    body = FunctionLowerer(mctx, ti, "tf_body_" + fdef.name, noalias=noalias)
    try:
        body.lower()
    except NativeUnsupported:
        raise
    except (KeyError, AttributeError, TypeError, IndexError, ValueError) as e:
        raise LoweringError(f"internal lowering failure in {fdef.name}: {type(e).__name__}: {e}",
                            body.lineno) from e
    return mctx, ti, body


def build_module(funcdef, arg_types, module_functions=None, boundscheck=True, noalias=True, constants=None):
    """Typed lowering of ``funcdef`` into a fresh JIT module; returns (module context, type info, entry name)."""
    triple, layout = jit.target_info()
    name = getattr(funcdef, "name", "f")
    mctx, ti, body = lower_body(funcdef, arg_types, module_name=name, triple=triple, data_layout=layout,
                                module_functions=module_functions, boundscheck=boundscheck,
                                noalias=noalias, constants=constants, blas_dgemm=jit.blas_dgemm(),
                                poll=True)
    return _finish(mctx, ti, ti.fdef, body, arg_types, noalias)


def _finish(mctx, ti, fdef, body, arg_types, noalias):
    # A second body specialised to unit inner strides of the array arguments, picked at entry
    # from numpy's flags. Whole-array operations do not need it (their kernels are versioned on
    # stride by LLVM's vectorizer), but indexed loops over arguments do: e.g. the generated
    # Rosenbrock gradient's reversed loop vectorizes only with known strides (13.7 -> 5.5 us).
    # It doubles that function's compile time, so only functions with such loops get one.
    contig = None
    if ((SPECIALIZE_CONTIGUOUS or _indexes_arguments_in_loops(ti))
            and any(isinstance(t, T.Array) and t.ndim for t in arg_types)):
        contig = FunctionLowerer(mctx, ti, "tf_body_contig_" + fdef.name, noalias=noalias, contiguous=True)
        contig.lower()
        contig = contig.fn
    entry_name = jit.unique_name("tf_entry_" + fdef.name)
    entry_fn = build_entry(mctx, body.fn, ti, entry_name, contig)
    mctx.fast = None
    if fastcall.supported(ti):
        mctx.fast = fastcall.build_fastcall(mctx, entry_fn, ti, entry_name + "_fast")
    return mctx, ti, entry_name


def compile_function(funcdef, arg_types, module_functions=None, boundscheck=True, constants=None,
                     _noalias=True):
    """Compile a normalized FunctionDef for ``arg_types`` to native code; returns a NativeFunction.

    ``module_functions``: name -> FunctionDef of functions it calls. ``constants``: name -> value
    of module-level values it reads (numbers, tuples, lists/arrays of numbers; arrays are
    referenced in place and kept alive by the NativeFunction). ``boundscheck=False`` drops
    index checks (negative indices still count from the end).
    """
    from .wrapper import NativeFunction
    arg_types = tuple(arg_types)
    mctx, ti, entry_name = build_module(funcdef, arg_types, module_functions, boundscheck, _noalias, constants)
    names, globs = [entry_name], []
    if mctx.fast is not None:
        names.append(mctx.fast[0].name)
        globs.append(mctx.fast[1])
    release = entry_name + "_release"
    mctx.build_release(release)
    try:
        ir_text = str(mctx.module)
        addrs, llmod, code = jit.compile_ir(ir_text, names, global_names=globs, release=release)
    except Exception as e:      # malformed IR is our bug: report it as "cannot compile natively"
        raise LoweringError(f"internal code generation failure: {type(e).__name__}: {e}",
                            ti.fdef.lineno) from e
    fast = (addrs[names[1]], addrs[globs[0]]) if mctx.fast is not None else None
    nf = NativeFunction(addrs[entry_name], ti, mctx.messages, ir_text, llmod, fast, code)
    nf._keepalive = mctx.keepalive
    if _noalias and ti.written_params and sum(isinstance(t, T.Array) for t in arg_types) > 1:
        # noalias on array arguments is only sound when written arrays overlap no other argument;
        # the wrapper checks, and calls this conservative variant (built on first need) otherwise.
        nf._alias_factory = lambda: compile_function(funcdef, arg_types, module_functions, boundscheck,
                                                     constants, False)
        nf._rebuild_wrapper()
    return nf


def parse_function(src, name):
    """FunctionDef ``name`` and all other top-level functions of ``src`` (as module functions)."""
    tree = ast.parse(textwrap.dedent(src))
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    if name not in funcs:
        raise LoweringError(f"no function {name!r} in the source")
    return funcs[name], {k: v for k, v in funcs.items() if k != name}


def compile_source(src, name, arg_types, **kw):
    fdef, others = parse_function(src, name)
    mf = kw.pop("module_functions", None) or others
    return compile_function(fdef, arg_types, mf, **kw)
