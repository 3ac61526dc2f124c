"""Build losses.py ahead of time, use the result without the compiler, and from C.

    python examples/aot/build_and_run.py

The same build on the command line:
    tapeflow build examples/aot/losses.py -f 'rosen:f8[:]' -f 'least_squares:f8[:,:],f8[:],f8[:],f8@2' \
        -o examples/aot/build -n losses
"""
import os
import shutil
import subprocess
import sys

import numpy as np

import tapeflow

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "build")

paths = tapeflow.build(os.path.join(HERE, "losses.py"),
                       ["rosen:f8[:]", "least_squares:f8[:,:],f8[:],f8[:],f8@2"], OUT, "losses")
for key, path in paths.items():
    print(f"built {key:8} {os.path.relpath(path)}")

# The loader needs only numpy and ctypes: show that in a fresh interpreter.
code = ("import sys; sys.path.insert(0, %r); import numpy as np, losses; "
        "x = np.array([0.5, 1.2, -0.3, 2.0]); print('Python loader: rosen_value_and_grad ->', "
        "losses.rosen_value_and_grad(x)); "
        "print('compiler modules loaded:', [m for m in ('llvmlite', 'gast', 'astor') if m in sys.modules])") % OUT
subprocess.run([sys.executable, "-c", code], check=True)

sys.path.insert(0, HERE)
import losses as source  # noqa: E402  (the Python original, for comparison)
x = np.array([0.5, 1.2, -0.3, 2.0])
print("JIT for comparison:                ", tapeflow.value_and_grad(source.rosen)(x))

cc = shutil.which("cc") or shutil.which("gcc")
if cc:
    exe = os.path.join(OUT, "main")
    subprocess.run([cc, os.path.join(HERE, "main.c"), "-I", OUT, "-L", OUT, "-llosses",
                    f"-Wl,-rpath,{OUT}", "-lm", "-o", exe], check=True)
    subprocess.run([exe], check=True)
    a = np.arange(1.0, 7.0).reshape(3, 2)
    print("Python: d least_squares / dw =", tapeflow.grad(source.least_squares, 2)(
        a, np.array([1.0, 0.0, -1.0]), np.array([0.1, -0.2]), 0.01))
