"""The README's first command runs examples/quickstart.py: it must work and print real numbers."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quickstart_prints_its_gradients():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "quickstart.py")],
                         capture_output=True, text=True, check=True).stdout
    assert "grad rosenbrock(x) = [-151.  -50.  100.]" in out
    assert "rosenbrock: backend 'native'" in out
    assert "def grad_rosenbrock(x):" in out
    assert "value = 81.5  central differences: [-151.  -50.  100.]" in out
    assert "y = 27.0  dy/dw = 27.0  d2y/dw2 = 18.0" in out
