"""The ``tapeflow`` command: ``build`` ahead-of-time gradient modules, ``show`` generated code.

    tapeflow build FILE.py --function NAME:TYPES[@ARGNUMS][+grad|+jvp|+jacfwd...] [...] --output DIR
                   --name MODULE [--cpu native]
    tapeflow show FILE.py:NAME [--signature TYPES] [--argnums 0,2] [--llvm]

TYPES are numpy-style codes: f8, f4, i8, b1, with [:] / [:,:] for arrays, e.g. ``loss:f8[:,:],f8[:],i8``.
Gradients are taken with respect to every float argument unless @ARGNUMS picks some. Without
``+``, a function's gradient is exported (NAME_grad, NAME_value_and_grad); ``+jvp`` adds NAME_jvp
(value and Jacobian-vector product), ``+jacfwd`` NAME_jacfwd (the Jacobian), e.g.
``hand:f8[:],f8[:,:]@0+jvp+jacfwd`` for a function returning an array.
This module imports the compiler only when a command runs, so ``import tapeflow`` stays light.
"""
import argparse
import os
import sys


def build(file, functions, output, name, cpu=None, boundscheck=True):
    """Compile ``functions`` of ``file`` ahead of time into ``output``: lib``name``.so, ``name``.h
    (C API) and ``name``.py (a loader needing only numpy and ctypes).

    ``functions``: a list of ``"NAME:TYPES"`` strings (``"rosen:f8[:]"``, ``"loss:f8[:,:],f8[:],i8@0"``,
    ``"hand:f8[:],f8[:,:]@0+jvp+jacfwd"``) or a dict ``{NAME: TYPES}``. ``cpu``: None = the architecture's baseline (portable),
    ``"native"`` = this machine's CPU. Returns ``{"library": path, "header": path, "loader": path}``;
    raises ``BuildError`` (bad signature, unknown function, no C compiler, unsupported code).
    """
    from .compiler.llvm.aot_build import build as _build
    return _build(file, functions, output, name, cpu=cpu, boundscheck=boundscheck)


def _parser():
    p = argparse.ArgumentParser(prog="tapeflow", description="tapeflow command line tools")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="compile functions and their gradients into a shared library, "
                                     "a C header and a Python loader",
                       description="Compile functions of FILE and their gradients ahead of time.")
    b.add_argument("file", metavar="FILE.py")
    b.add_argument("-f", "--function", action="append", required=True,
                   metavar="NAME:TYPES[@ARGNUMS][+WHAT]",
                   help="a function and its argument types, e.g. rosen:f8[:] or loss:f8[:,:],f8[:],i8@0 "
                        "(repeatable); derivatives are w.r.t. all float arguments unless @ARGNUMS is "
                        "given; +grad (the default), +jvp, +jacfwd choose what is exported, e.g. "
                        "hand:f8[:],f8[:,:]@0+jvp+jacfwd")
    b.add_argument("-o", "--output", default=".", metavar="DIR", help="output directory (default: .)")
    b.add_argument("-n", "--name", metavar="MODULE", help="module name (default: FILE's stem)")
    b.add_argument("--cpu", default=None, help="target CPU: 'native' for this machine's best, an LLVM "
                                               "CPU name, or (default) the architecture's baseline")
    b.add_argument("--no-boundscheck", action="store_true", help="drop index checks")
    s = sub.add_parser("show", help="print the generated gradient source (or LLVM IR)",
                       description="Print the gradient tapeflow generates for FILE.py:NAME.")
    s.add_argument("target", metavar="FILE.py:NAME")
    s.add_argument("-s", "--signature", metavar="TYPES", help="argument types, e.g. 'f8[:],i8' "
                                                              "(default: every argument f8)")
    s.add_argument("--argnums", metavar="I,J", help="arguments to differentiate (default: float ones)")
    s.add_argument("--llvm", action="store_true", help="print the optimized LLVM IR of the AOT module")
    s.add_argument("--cpu", default=None, help="target CPU for --llvm (default: baseline)")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    from .compiler.llvm.aot_signature import BuildError
    try:
        if args.command == "build":
            name = args.name or os.path.splitext(os.path.basename(args.file))[0]
            out = build(args.file, args.function, args.output, name, cpu=args.cpu,
                        boundscheck=not args.no_boundscheck)
            for key in ("library", "header", "loader"):
                print(f"{key:8} {out[key]}")
            return 0
        file, sep, name = args.target.rpartition(":")
        if not sep or not file or not name:
            raise BuildError(f"expected FILE.py:NAME, got {args.target!r}")
        from .compiler.llvm.aot_build import show
        print(show(file, name, args.signature, llvm_ir=args.llvm, argnums=args.argnums, cpu=args.cpu))
        return 0
    except BuildError as e:
        print(f"tapeflow {args.command}: error: {e}", file=sys.stderr)
        return 2
