"""Ahead-of-time modules: build, load without the compiler, call from C, and the errors.

Results of the loader are compared bit for bit with the JIT (tapeflow's native backend). The
bit-exact comparisons use a module built for the host CPU (``cpu="native"``, the JIT's own
target): with the portable baseline target, LLVM may vectorize and contract reductions
differently, so that module is compared within rounding instead.
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
from tapeflow.compiler.llvm.aot_signature import BuildError, SignatureError

SOURCE = textwrap.dedent('''
    import numpy as np

    W = np.array([1.0, 2.0, 3.0, 4.0])

    def rosen(x):
        s = 0.0
        for i in range(x.shape[0] - 1):
            s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
        return s

    def loss(w, b):
        return np.sum((w * b - 1.0) ** 2) + b * b

    def rec(x, k):
        y = x
        for i in range(k):
            y = np.sin(y) * x + 0.5 * y
        return y

    def mat(a, v):
        s = 0.0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                s += a[i, j] * v[j] ** 2
        return s

    def weighted(x):
        return np.sum(W * x ** 2)

    def pick(x, i):
        return x[i] * 2.0

    def shout(x):
        print("x =", x)
        return x * 2.0
''')

FUNCTIONS = ["rosen:f8[:]", "loss:f8[:],f8", "rec:f8,i8", "mat:f8[:,:],f8[:]@1",
             "weighted:f8[:]", "pick:f8[:],i8"]

X = np.array([0.5, 1.2, -0.3, 2.0, 0.7])
W4 = np.array([0.3, -1.1, 2.5, 0.8])
A = np.arange(12.0).reshape(3, 4) / 7.0

# (function name, arguments, argnums given to tapeflow.value_and_grad)
CASES = [("rosen", (X,), 0), ("rosen", (X[::2],), 0), ("loss", (W4, 0.7), (0, 1)),
         ("rec", (0.7, 6), 0), ("mat", (A, W4), 1), ("mat", (A.T.copy()[:, :3], W4[::-1][:3]), 1),
         ("weighted", (W4,), 0), ("pick", (X, 3), 0)]

# Run in a fresh interpreter where the compiler's dependencies cannot be imported at all.
BLOCKED_RUNNER = textwrap.dedent('''
    import pickle, sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("llvmlite", "gast", "astor", "tapeflow"):
                raise ImportError(f"{name} is blocked in this test")
    sys.meta_path.insert(0, Block())
    sys.path.insert(0, sys.argv[1])
    mod = __import__(sys.argv[2])
    cases = pickle.load(open(sys.argv[3], "rb"))
    out = []
    for name, args in cases:
        out.append((getattr(mod, name)(*args), getattr(mod, name + "_value_and_grad")(*args),
                    getattr(mod, name + "_grad")(*args)))
    bad = [m for m in ("llvmlite", "gast", "astor", "tapeflow") if m in sys.modules]
    pickle.dump((out, bad), open(sys.argv[4], "wb"))
''')


def _have_cc():
    from tapeflow.compiler.llvm.aot_build import find_cc
    try:
        find_cc()
        return True
    except BuildError:
        return False


# building needs a C compiler to link; tests of errors found before linking run without one
needs_cc = pytest.mark.skipif(not _have_cc(), reason="no C compiler (cc/gcc/clang) on PATH")


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    d = tmp_path_factory.mktemp("aotsrc")
    path = d / "examples_aot.py"
    path.write_text(SOURCE)
    return path


@pytest.fixture(scope="module")
def native_mod(src, tmp_path_factory):
    out = tmp_path_factory.mktemp("aotnative")
    paths = tapeflow.build(str(src), FUNCTIONS, str(out), "gradmod", cpu="native")
    return out, paths


@pytest.fixture(scope="module")
def user_module(src):
    from tapeflow.compiler.llvm.aot_build import load_file
    return load_file(str(src))


def _same(a, b):
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype
    return float(a) == float(b) or (np.isnan(a) and np.isnan(b))


@needs_cc
def test_files_written(native_mod):
    out, paths = native_mod
    assert sorted(os.listdir(out)) == ["gradmod.h", "gradmod.py", "libgradmod.so"]
    header = open(paths["header"]).read()
    assert "int32_t gradmod_rosen_grad(const double *x, const int64_t *x_shape, " \
           "const int64_t *x_strides, double *out_grad_x);" in header
    assert "const char *gradmod_last_error(void);" in header


@needs_cc
def test_loader_without_compiler_matches_jit_bit_for_bit(native_mod, user_module, tmp_path):
    out, _ = native_mod
    cases = [(name, args) for name, args, _ in CASES]
    (tmp_path / "cases.pkl").write_bytes(pickle.dumps(cases))
    (tmp_path / "run.py").write_text(BLOCKED_RUNNER)
    subprocess.run([sys.executable, str(tmp_path / "run.py"), str(out), "gradmod",
                    str(tmp_path / "cases.pkl"), str(tmp_path / "res.pkl")], check=True)
    results, leaked = pickle.loads((tmp_path / "res.pkl").read_bytes())
    assert leaked == []
    for (name, args, argnums), (value, vg, g) in zip(CASES, results):
        fn = getattr(user_module, name)
        jv, jg = tapeflow.value_and_grad(fn, argnums, backend="native")(*args)
        assert _same(value, jv), name
        assert _same(vg, (jv, jg)), name
        assert _same(g, jg), name


@needs_cc
def test_portable_loader_path(native_mod):
    """Without numpy's known object layout the loader passes data/shape/strides pointers."""
    out, paths = native_mod
    text = open(paths["loader"]).read()
    assert "_NP_FIELDS = _np_fields()" in text
    (out / "gradmod_portable.py").write_text(text.replace("_NP_FIELDS = _np_fields()", "_NP_FIELDS = False"))
    sys.path.insert(0, str(out))
    try:
        import gradmod
        import gradmod_portable
    finally:
        sys.path.remove(str(out))
        os.remove(out / "gradmod_portable.py")
    assert gradmod._NP_FIELDS and not gradmod_portable._NP_FIELDS
    for name, args, _ in CASES:
        for suffix in ("", "_grad", "_value_and_grad"):
            fast, slow = getattr(gradmod, name + suffix), getattr(gradmod_portable, name + suffix)
            assert _same(fast(*args), slow(*args)), (name, suffix)
    with pytest.raises(IndexError):
        gradmod_portable.pick(X, -9)


@needs_cc
def test_baseline_cpu_and_c_program(src, user_module, tmp_path):
    """The portable build agrees with the JIT within rounding, and a C program can call it."""
    out = tmp_path / "out"
    tapeflow.build(str(src), {"rosen": "f8[:]", "loss": "f8[:],f8", "pick": "f8[:],i8"}, str(out), "portable")
    sys.path.insert(0, str(out))
    try:
        import portable
    finally:
        sys.path.remove(str(out))
    jv, jg = tapeflow.value_and_grad(user_module.rosen, backend="native")(X)
    v, g = portable.rosen_value_and_grad(X)
    assert np.isclose(v, jv, rtol=1e-14) and np.allclose(g, jg, rtol=1e-14, atol=0)

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    (tmp_path / "main.c").write_text(textwrap.dedent('''
        #include <stdio.h>
        #include "portable.h"
        int main(void) {
            double x[5] = {0.5, 1.2, -0.3, 2.0, 0.7};
            int64_t shape[1] = {5}, strides[1] = {sizeof(double)};
            double value, grad[5], gb;
            if (portable_rosen_value_and_grad(x, shape, strides, &value, grad) != 0) return 1;
            printf("%.17g", value);
            for (int i = 0; i < 5; i++) printf(" %.17g", grad[i]);
            printf("\\n");
            int64_t two[1] = {2}, every_other[1] = {2 * sizeof(double)};
            if (portable_loss_grad(x, two, every_other, 0.7, grad, &gb) != 0) return 1;
            printf("%.17g %.17g %.17g\\n", grad[0], grad[1], gb);
            int rc = portable_pick(x, shape, strides, 9, &value);
            printf("%d %s\\n", rc, rc ? portable_last_error() : "");
            return 0;
        }
    '''))
    exe = tmp_path / "main"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", str(tmp_path / "main.c"), "-I", str(out), "-L", str(out), "-lportable",
                    f"-Wl,-rpath,{out}", "-lm", "-o", str(exe)], check=True)
    lines = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()
    printed = [float(t) for t in lines[0].split()]
    assert printed[0] == v and printed[1:] == list(g)
    lg = portable.loss_grad(X[::2][:2], 0.7)
    assert [float(t) for t in lines[1].split()] == list(lg[0]) + [lg[1]]
    assert lines[2] == "1 IndexError: index 9 is out of bounds for axis 0 with size 5 (array 'x')"


@needs_cc
def test_loader_argument_errors(native_mod):
    out, _ = native_mod
    sys.path.insert(0, str(out))
    try:
        import gradmod
    finally:
        sys.path.remove(str(out))
    with pytest.raises(TypeError, match="argument 'x'.*float64.*int32"):
        gradmod.rosen_grad(X.astype(np.int32))
    with pytest.raises(TypeError, match="argument 'x'.*1-d"):
        gradmod.rosen(A)
    with pytest.raises(TypeError, match="argument 'x'"):
        gradmod.rosen([1.0, 2.0])
    with pytest.raises(TypeError, match="argument 'k'.*int"):
        gradmod.rec(0.5, 2.0)
    with pytest.raises(TypeError, match="argument 'b'.*float"):
        gradmod.loss(W4, "1")
    with pytest.raises(IndexError, match="out of bounds"):
        gradmod.pick_grad(X, 17)
    # byte-swapped and unaligned arrays are copied; 0-d arrays are floats
    assert _same(gradmod.rosen_grad(X.astype(">f8")), gradmod.rosen_grad(X))
    raw = np.zeros(X.nbytes + 1, np.uint8)[1:].view(np.float64)
    raw[:] = X
    assert not raw.flags.aligned and _same(gradmod.rosen_grad(raw), gradmod.rosen_grad(X))
    assert gradmod.loss(W4, np.array(0.7)) == gradmod.loss(W4, 0.7)
    # int arguments accept numpy integers; float ones accept ints
    assert gradmod.rec(1, np.int64(2)) == gradmod.rec(1.0, 2)


@needs_cc
def test_threads_share_a_module(native_mod):
    """Calls release the GIL; the library serializes each function's use of its pools."""
    from concurrent.futures import ThreadPoolExecutor
    out, _ = native_mod
    sys.path.insert(0, str(out))
    try:
        import gradmod
    finally:
        sys.path.remove(str(out))
    xs = [np.linspace(-1.0, 1.0 + k, 5000) for k in range(8)]
    expected = [gradmod.loss_grad(x, 0.3) for x in xs]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(5):
            got = list(pool.map(lambda x: gradmod.loss_grad(x, 0.3), xs))
            assert all(_same(g, e) for g, e in zip(got, expected))


def test_bad_signature(src, tmp_path):
    with pytest.raises(SignatureError, match=r"'rosen:f9\[:\]'"):
        tapeflow.build(str(src), ["rosen:f9[:]"], str(tmp_path), "m")
    with pytest.raises(SignatureError, match="NAME:TYPES"):
        tapeflow.build(str(src), ["rosen"], str(tmp_path), "m")
    with pytest.raises(SignatureError, match="argnum 1.*i8"):
        tapeflow.build(str(src), ["rec:f8,i8@1"], str(tmp_path), "m")
    with pytest.raises(BuildError, match="2 argument type"):
        tapeflow.build(str(src), ["rosen:f8[:],f8"], str(tmp_path), "m")
    assert os.listdir(tmp_path) == []


@needs_cc
def test_missing_function(src, tmp_path):
    with pytest.raises(BuildError, match="'nope' is not defined in .*functions there: .*rosen"):
        tapeflow.build(str(src), ["nope:f8"], str(tmp_path), "m")


@needs_cc
def test_print_is_refused(src, tmp_path):
    with pytest.raises(BuildError, match="shout.*print"):
        tapeflow.build(str(src), ["shout:f8"], str(tmp_path), "m")


def test_no_c_compiler(src, tmp_path, monkeypatch):
    monkeypatch.setenv("TAPEFLOW_CC", "no-such-cc")
    with pytest.raises(BuildError, match="TAPEFLOW_CC.*no-such-cc"):
        tapeflow.build(str(src), ["rosen:f8[:]"], str(tmp_path), "m")
    monkeypatch.delenv("TAPEFLOW_CC")
    env = dict(os.environ, PATH="")
    proc = subprocess.run([sys.executable, "-m", "tapeflow", "build", str(src), "-f", "rosen:f8[:]",
                           "-o", str(tmp_path), "-n", "m"], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no C compiler found" in proc.stderr and "TAPEFLOW_CC" in proc.stderr
    assert os.listdir(tmp_path) == []


@needs_cc
def test_show_source_and_llvm(src, capsys):
    from tapeflow.cli import main
    assert main(["show", f"{src}:rosen", "--signature", "f8[:]"]) == 0
    assert "def grad_rosen(" in capsys.readouterr().out
    assert main(["show", f"{src}:rec", "-s", "f8,i8", "--llvm"]) == 0
    ir = capsys.readouterr().out
    assert "define" in ir and "show_rec_grad" in ir
    assert main(["show", f"{src}:loss"]) == 0           # default: all scalars f8
    assert "def grad_loss(" in capsys.readouterr().out
    assert main(["show", f"{src}:rosen", "-s", "f8[:"]) == 2
    assert "bad type" in capsys.readouterr().err


@needs_cc
def test_cli_build(src, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tapeflow", "build", str(src), "--function",
                           "rec:f8,i8", "--output", str(tmp_path / "o"), "--name", "climod"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "climod.py" in proc.stdout
    assert sorted(os.listdir(tmp_path / "o")) == ["climod.h", "climod.py", "libclimod.so"]


# ------------------------------------------------------------------ issue 14: loader safety

CLASH_SOURCE = textwrap.dedent('''
    import numpy as np

    def clash(_v, _r, _np, x, x_shape, _tf_a, type, out_value):
        return _v * _r + _np * np.sum(x * x) * x_shape + _tf_a * type + out_value
''')


@pytest.fixture(scope="module")
def clash_mod(tmp_path_factory):
    d = tmp_path_factory.mktemp("aotclash")
    (d / "clash_src.py").write_text(CLASH_SOURCE)
    # same module name as native_mod: a library that could be swapped in for the other
    paths = tapeflow.build(str(d / "clash_src.py"), ["clash:f8,f8,f8,f8[:],i8,f8,f8,f8@0,1,2,3,5,6,7"],
                           str(d / "out"), "gradmod", cpu="native")
    return d / "out", paths


def _import_from(directory, alias):
    import importlib.util
    spec = importlib.util.spec_from_file_location(alias, os.path.join(directory, "gradmod.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@needs_cc
def test_parameter_names_never_collide_with_generated_names(clash_mod):
    out, paths = clash_mod
    header = open(paths["header"]).read()
    assert ("int32_t gradmod_clash(double _v, double _r, double _np, const double *x, "
            "const int64_t *x_shape_, const int64_t *x_strides, int64_t x_shape, double _tf_a, "
            "double type, double out_value, double *out_value_);") in header
    if shutil.which("cc"):
        (out / "t.c").write_text('#include "gradmod.h"\nint main(void) { return 0; }\n')
        subprocess.run(["cc", "-fsyntax-only", "-Wall", "-Werror", str(out / "t.c")], check=True, cwd=out)
    mod = _import_from(out, "gradmod_clash")
    x = np.array([0.5, -1.5, 2.0])
    args = (1.5, -2.0, 0.25, x, 3, 0.7, 4.0, -1.25)
    value = 1.5 * -2.0 + 0.25 * np.sum(x * x) * 3 + 0.7 * 4.0 - 1.25
    assert mod.clash(*args) == pytest.approx(value, rel=1e-14)
    g = mod.clash_grad(*args)
    expected = (-2.0, 1.5, np.sum(x * x) * 3, 2 * 0.25 * 3 * x, 4.0, 0.7, 1.0)
    assert len(g) == len(expected)
    for a, b in zip(g, expected):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    v, g2 = mod.clash_value_and_grad(*args)
    assert v == mod.clash(*args) and all(np.array_equal(a, b) for a, b in zip(g, g2))
    with pytest.raises(OverflowError, match="x_shape"):
        mod.clash(1.5, -2.0, 0.25, x, 2 ** 64 + 1, 0.7, 4.0, 1.0)


@needs_cc
def test_int_arguments_beyond_int64_raise_overflow(native_mod):
    mod = _import_from(native_mod[0], "gradmod_overflow")
    assert mod.pick(X, 1) == X[1] * 2.0
    for bad in (2 ** 64 + 1, 2 ** 63, -2 ** 63 - 1):
        with pytest.raises(OverflowError, match="argument 'i'"):
            mod.pick(X, bad)
    assert mod.pick(X, -2 ** 63 + 2 ** 63 - 1) == X[-1] * 2.0


@needs_cc
def test_loader_refuses_a_library_of_another_build(native_mod, clash_mod, tmp_path):
    import re
    matches = {
        "swapped": r"expects build [0-9a-f]{64} \(rosen\(x: f8\[:\]\).*the file is build [0-9a-f]{64} of clash\(",
        "truncated": r"expects build [0-9a-f]{64} \(rosen.*(damaged \(4096 bytes\)|the file is build)",
        "empty": r"expects build .*damaged \(0 bytes\)"}
    dirs = []
    for damage in matches:
        d = tmp_path / damage
        shutil.copytree(native_mod[0], d)
        lib = d / "libgradmod.so"
        if damage == "swapped":
            shutil.copy(clash_mod[1]["library"], lib)
        else:
            lib.write_bytes(lib.read_bytes()[:4096] if damage == "truncated" else b"")
        dirs.append(str(d))
    # in a fresh interpreter: a SIGBUS would kill it instead of raising
    code = textwrap.dedent("""
        import importlib.util, os, sys
        for k, d in enumerate(sys.argv[1:]):
            spec = importlib.util.spec_from_file_location(f"m{k}", os.path.join(d, "gradmod.py"))
            try:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            except ImportError as e:
                print(str(e).replace(chr(10), " "))
            else:
                print("loaded")
    """)
    r = subprocess.run([sys.executable, "-c", code] + dirs, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    for line, pattern in zip(lines, matches.values()):
        assert re.search(pattern, line), line
