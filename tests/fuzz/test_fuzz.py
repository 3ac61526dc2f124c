"""Differential fuzzing: random programs, three backends, central differences (fuzz_run.py).

A fixed block of seeds, so a failure here is reproducible: ``python tests/fuzz/fuzz_run.py
SEED`` prints the program and what each backend said. ``bench/fuzz.py`` runs more.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fuzz_run  # noqa: E402

SEEDS = range(36)   # about a second each (native compilation dominates)


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return str(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize("seed", SEEDS)
def test_backends_agree(seed, directory):
    outcome = fuzz_run.run(seed, directory)
    assert outcome.verdict in ("ok", "skip"), outcome.report()


def test_most_programs_are_fair_tests():
    """The generator is useful only if most of its programs are compared, not skipped."""
    unfair = [fuzz_run.unfair(fuzz_run.Program(seed)) for seed in range(1000, 1200)]
    assert sum(why is not None for why in unfair) <= len(unfair) // 4


def test_absorbed_by_a_huge_exp_is_no_fair_test():
    """Seed 335 computes ``max(b - (b + x))`` with an entry of b near 1e82: floating point rounds
    x away there, so central differences see a constant while every backend (rightly, for the
    mathematics) differentiates ``-x``. Such a program says nothing about the gradients."""
    why = fuzz_run.unfair(fuzz_run.Program(335))
    assert why is not None and why.startswith("an exp of")
