"""GradBench ht: the tool's objective and Jacobian (generated code, python backend), simple and
complicated, on a small random hand model shaped like the eval's (22 bones in a chain of
fingers, homogeneous base positions, skinning weights), against central differences."""
import numpy as np
import pytest

BONES = 22


def hand_input(rng, complicated):
    def transform():
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        m = np.eye(4)
        m[:3, :3] = q
        m[:3, 3] = rng.normal(size=3) * 0.3
        return m.tolist()
    vertices, points = 12, 5
    weights = rng.random((vertices, BONES))
    weights /= weights.sum(axis=1, keepdims=True)
    model = {"bone_count": BONES, "bone_names": [f"b{i}" for i in range(BONES)],
             "parents": [-1] + [int(rng.integers(0, i)) for i in range(1, BONES)],
             "base_relatives": [transform() for _ in range(BONES)],
             "inverse_base_absolutes": [transform() for _ in range(BONES)],
             "base_positions": np.hstack([rng.normal(size=(vertices, 3)),
                                          np.ones((vertices, 1))]).tolist(),
             "weights": weights.tolist(),
             "triangles": rng.integers(0, vertices, size=(8, 3)).tolist(),
             "is_mirrored": True}
    us = rng.random((points, 2)) * 0.5 if complicated else np.zeros((0, 2))
    n_targets = 8 if complicated else vertices
    return {"theta": (rng.normal(size=26) * 0.5).tolist(), "us": us.tolist(),
            "data": {"model": model,
                     "correspondences": rng.integers(0, n_targets, size=points).tolist(),
                     "points": rng.normal(size=(points, 3)).tolist()},
            "min_runs": 1, "min_seconds": 0}


@pytest.mark.parametrize("complicated", [False, True], ids=["simple", "complicated"])
def test_ht_jacobian(eval_module, differences, complicated):
    ht = eval_module("ht")
    input = hand_input(np.random.default_rng(3), complicated)
    objective, jacobian = ht.functions("python")
    err, _ = objective(input)
    J, _ = jacobian(input)
    theta, us, model, corr, points, triangles = ht.prepare(input)

    def residuals(theta, us):
        if complicated:
            return ht.ht_complicated(theta, us, *model, corr, points, triangles).ravel()
        return ht.ht_simple(theta, *model, corr, points).ravel()
    np.testing.assert_allclose(err, residuals(theta, us), rtol=1e-12, atol=1e-12)
    expected = differences(lambda t: residuals(t, us), theta)
    if complicated:
        by_us = differences(lambda u: residuals(theta, u), us).reshape(len(err), -1, 2)
        rows = np.arange(len(err))
        own = by_us[rows, rows // 3]   # residual 3 i + j depends on us[i] only
        expected = np.concatenate([own, expected], axis=1)
    assert np.shape(J) == expected.shape
    np.testing.assert_allclose(J, expected, rtol=1e-6, atol=1e-8)
