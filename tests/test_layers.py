"""tools/check_layers.py: the repository passes, and a deliberate violation fails it."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "check_layers.py")


def run(root):
    return subprocess.run([sys.executable, TOOL, root], capture_output=True, text=True)


def test_the_repository_keeps_its_layers():
    done = run(ROOT)
    assert done.returncode == 0, done.stdout


def test_violations_are_named_and_fail(tmp_path):
    for folder in ("tapeflow", "compiler", "runtime"):
        shutil.copytree(os.path.join(ROOT, folder), tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "compiler" / "normalize.py", "a") as f:
        f.write("\nfrom .api import grad\n")                  # a pass importing the facade
    with open(tmp_path / "runtime" / "stack.py", "a") as f:
        f.write("\ndef late():\n    from tapeflow.compiler import pipeline\n")   # runtime -> compiler
    done = run(str(tmp_path))
    assert done.returncode == 1
    out = done.stdout
    assert "compiler/normalize.py" in out and "imports the facade tapeflow.compiler.api" in out
    assert "runtime/stack.py" in out and "runtime imports tapeflow.compiler.pipeline" in out
    # the cycle is reported from whichever of its modules the walk meets first
    cycle = next(line for line in out.splitlines() if line.startswith("import cycle"))
    assert "tapeflow.compiler.normalize -> tapeflow.compiler.api" in cycle and \
        "tapeflow.compiler.api -> tapeflow.compiler.pipeline" in cycle, cycle
