"""Ahead-of-time forward mode: ``+jvp`` and ``+jacfwd`` exports and array-valued functions.

The module is loaded in an interpreter where llvmlite, gast, astor and tapeflow cannot be
imported; its jvp and Jacobians are checked against central differences of its own primal and
against tapeflow.jvp / tapeflow.jacfwd of the source function.
"""
import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tapeflow
from tapeflow.compiler.llvm.aot_signature import BuildError, SignatureError, parse_export

from test_aot import BLOCKED_RUNNER, needs_cc

SOURCE = textwrap.dedent('''
    import numpy as np

    def hand(params, base):
        out = np.zeros((base.shape[0], 2))
        for i in range(base.shape[0]):
            b = i % 3
            angle = params[0] + params[2 + b]
            c = np.cos(angle)
            s = np.sin(angle)
            out[i, 0] = params[1] * (c * base[i, 0] - s * base[i, 1]) + params[5]
            out[i, 1] = params[1] * (s * base[i, 0] + c * base[i, 1]) + params[6] * base[i, 0]
        return out

    def mix(a, x, k):
        y = np.sin(x) * a + x ** 2
        for i in range(k):
            y = y * a
        return y

    def rosen(x):
        s = 0.0
        for i in range(x.shape[0] - 1):
            s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
        return s

    def scal(a, b):
        return np.exp(a) * b + a * a

    def grid(m):
        return np.tanh(m) * m[0, 1]

    def pick(x, i):
        return x[i] * x
''')

FUNCTIONS = ["hand:f8[:],f8[:,:]@0+jvp+jacfwd", "mix:f8,f8[:],i8+jvp+jacfwd",
             "rosen:f8[:]+grad+jvp+jacfwd", "scal:f8,f8+jvp+jacfwd", "grid:f8[:,:]+jacfwd",
             "pick:f8[:],i8+jvp+jacfwd"]

RNG = np.random.default_rng(7)
P = RNG.normal(size=7)
BASE = RNG.uniform(-1, 1, (5, 2))
X = RNG.normal(size=4)
M = RNG.normal(size=(2, 3))

# (name, args, differentiated argument indices)
CASES = [("hand", (P, BASE), (0,)), ("hand", (P, BASE[::2]), (0,)), ("mix", (0.7, X, 2), (0, 1)),
         ("rosen", (X,), (0,)), ("scal", (0.3, -1.2), (0, 1)), ("grid", (M,), (0,)),
         ("grid", (M.T.copy().T,), (0,)), ("pick", (X[::-1], 2), (0,))]

RUNNER = BLOCKED_RUNNER.split("out = []")[0] + textwrap.dedent('''
    out = []
    for name, args, tangents in cases:
        jac = getattr(mod, name + "_jacfwd", None)
        jvp = getattr(mod, name + "_jvp", None)
        out.append((getattr(mod, name)(*args), jvp(*args, *tangents) if jvp else None,
                    jac(*args) if jac else None))
    bad = [m for m in ("llvmlite", "gast", "astor", "tapeflow") if m in sys.modules]
    pickle.dump((out, bad), open(sys.argv[4], "wb"))
''')


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("aotfwd")
    (d / "fwd_src.py").write_text(SOURCE)
    out = d / "out"
    paths = tapeflow.build(str(d / "fwd_src.py"), FUNCTIONS, str(out), "fwdmod", cpu="native")
    sys.path.insert(0, str(d))
    try:
        import fwd_src
    finally:
        sys.path.remove(str(d))
    return out, paths, fwd_src


def _tangents(args, wrt):
    return tuple(RNG.normal(size=np.shape(args[i])) if np.ndim(args[i]) else float(RNG.normal())
                 for i in wrt)


def _central(f, args, i, t, h=1e-6):
    plus, minus = list(args), list(args)
    plus[i] = args[i] + h * t
    minus[i] = args[i] - h * t
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * h)


@needs_cc
def test_jvp_and_jacfwd_loaded_without_compiler(built, tmp_path):
    out, _, src = built
    cases = [(name, args, _tangents(args, wrt)) for name, args, wrt in CASES]
    (tmp_path / "cases.pkl").write_bytes(pickle.dumps(cases))
    (tmp_path / "run.py").write_text(RUNNER)
    subprocess.run([sys.executable, str(tmp_path / "run.py"), str(out), "fwdmod",
                    str(tmp_path / "cases.pkl"), str(tmp_path / "res.pkl")], check=True)
    results, leaked = pickle.loads((tmp_path / "res.pkl").read_bytes())
    assert leaked == []
    for (name, args, wrt), (_, _, tangents), (value, jvp, jac) in zip(CASES, cases, results):
        f = getattr(src, name)
        expected = f(*args)
        assert np.shape(value) == np.shape(expected) and np.allclose(value, expected, 1e-13, 1e-13)
        # tapeflow's own transforms (native, else python), to rounding
        full = [None] * len(args)
        for i, t in zip(wrt, tangents):
            full[i] = t
        tv, tt = tapeflow.jvp(f, args, full)
        jv, jt = jvp if jvp is not None else (tv, tt)     # grid: +jacfwd only
        assert np.allclose(jv, tv, 1e-13, 1e-13) and np.shape(jt) == np.shape(tt)
        assert np.allclose(jt, tt, 1e-12, 1e-12), name
        tj = tapeflow.jacfwd(f, wrt if len(wrt) > 1 else wrt[0])(*args)
        jacs = jac if len(wrt) > 1 else (jac,)
        tjs = tj if len(wrt) > 1 else (tj,)
        directional = 0.0
        for i, t, J, T in zip(wrt, tangents, jacs, tjs):
            assert np.shape(J) == np.shape(expected) + np.shape(args[i]), name
            assert np.allclose(J, T, 1e-12, 1e-12), name
            # central differences of the source function, column by column and along t
            n = int(np.prod(np.shape(args[i])))
            for j in range(n):
                e = np.zeros(n)
                e[j] = 1.0
                col = np.reshape(J, np.shape(expected) + (n,))[..., j]
                fd = _central(f, args, i, e.reshape(np.shape(args[i])) if np.ndim(args[i]) else 1.0)
                assert np.allclose(col, fd, rtol=1e-6, atol=1e-6), (name, i, j)
            directional = directional + np.tensordot(J, t, axes=np.ndim(t)) if np.ndim(t) \
                else directional + J * t
        assert np.allclose(jt, directional, 1e-12, 1e-12), name


@needs_cc
def test_errors_and_header(built):
    out, paths, _ = built
    sys.path.insert(0, str(out))
    try:
        import fwdmod
    finally:
        sys.path.remove(str(out))
    with pytest.raises(ValueError, match="tangent of argument 0 has extent 3 where the argument has 4"):
        fwdmod.rosen_jvp(X, np.ones(3))
    with pytest.raises(TypeError, match="argument 'x_dot'"):
        fwdmod.rosen_jvp(X, np.ones(4, np.float32))
    with pytest.raises(IndexError, match="out of bounds"):
        fwdmod.pick_jacfwd(X, 11)
    with pytest.raises(IndexError, match="out of bounds"):
        fwdmod.pick(X, -11)
    assert np.allclose(fwdmod.rosen_jacfwd(X), fwdmod.rosen_grad(X), 1e-12, 1e-12)
    assert np.isscalar(fwdmod.scal_jacfwd(0.1, 0.2)[0])
    header = open(paths["header"]).read()
    assert "void fwdmod_free(void *data);" in header
    assert ("int32_t fwdmod_hand_jacfwd(const double *params, const int64_t *params_shape, "
            "const int64_t *params_strides, const double *base, const int64_t *base_shape, "
            "const int64_t *base_strides, double **out_jac_params, int64_t *out_jac_params_shape);"
            ) in header
    assert "int32_t fwdmod_scal_jvp(double a, double b, double a_dot, double b_dot, " \
           "double *out_value, double *out_tangent);" in header
    assert "fwdmod_hand_grad" not in header and "fwdmod_rosen_grad(" in header


@needs_cc
def test_c_program_frees_the_jacobian(built, tmp_path):
    out, _, src = built
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    (tmp_path / "main.c").write_text(textwrap.dedent('''
        #include <stdio.h>
        #include "fwdmod.h"
        int main(void) {
            double x[3] = {0.5, -1.5, 2.0};
            int64_t shape[1] = {3}, strides[1] = {sizeof(double)}, jshape[1];
            double *jac = NULL;
            if (fwdmod_rosen_jacfwd(x, shape, strides, &jac, jshape) != 0) return 1;
            printf("%lld", (long long)jshape[0]);
            for (int i = 0; i < 3; i++) printf(" %.17g", jac[i]);
            printf("\\n");
            fwdmod_free(jac);
            jac = (double *)1;
            int rc = fwdmod_pick_jacfwd(x, shape, strides, 7, &jac, jshape);
            printf("%d %d %s\\n", rc, jac == NULL, fwdmod_last_error());
            return 0;
        }
    '''))
    exe = tmp_path / "main"
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", str(tmp_path / "main.c"), "-I", str(out),
                    "-L", str(out), "-lfwdmod", f"-Wl,-rpath,{out}", "-lm", "-o", str(exe)], check=True)
    lines = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()
    x = np.array([0.5, -1.5, 2.0])
    assert lines[0].split()[0] == "3"
    expected = tapeflow.grad(src.rosen)(x)
    assert np.allclose([float(v) for v in lines[0].split()[1:]], expected, 1e-13, 1e-13)
    assert lines[1].startswith("1 1 IndexError: index 7 is out of bounds")


def test_signature_spelling(tmp_path):
    e = parse_export("hand:f8[:],f8[:,:]@0+jvp+jacfwd")
    assert e.derivatives == ("jvp", "jacfwd") and e.argnums == (0,) and len(e.args) == 2
    assert parse_export("rosen:f8[:]").derivatives == ("grad",)
    with pytest.raises(SignatureError, match="bad export 'hess'"):
        parse_export("rosen:f8[:]+hess")
    with pytest.raises(SignatureError, match="repeated export"):
        parse_export("rosen:f8[:]+jvp+jvp")


@needs_cc
def test_gradient_of_an_array_valued_function_is_refused(tmp_path):
    (tmp_path / "vec.py").write_text("import numpy as np\n\ndef v(x):\n    return np.sin(x)\n")
    with pytest.raises(BuildError, match=r"gradient needs a scalar result.*\+jacfwd"):
        tapeflow.build(str(tmp_path / "vec.py"), ["v:f8[:]"], str(tmp_path / "o"), "m")
    with pytest.raises(BuildError, match=r"\+jvp needs a float argument"):
        tapeflow.build(str(tmp_path / "vec.py"), ["v:i8+jvp"], str(tmp_path / "o"), "m")
    assert not os.path.exists(tmp_path / "o")
