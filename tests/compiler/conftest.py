"""Puts this folder on sys.path, so the test modules import ``corpus`` and ``grad_checks`` (the
shared helpers; nothing is imported from this file, see grad_checks.py) by name."""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
