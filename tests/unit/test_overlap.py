import numpy as np
import pytest

from linguafranca.overlap import jaccard


def brute_force(a, b, empty):
    inter = sum(x and y for x, y in zip(a.ravel(), b.ravel()))
    union = sum(x or y for x, y in zip(a.ravel(), b.ravel()))
    return empty if union == 0 else inter / union


@pytest.mark.parametrize("empty", [1.0, np.nan])
def test_jaccard_matches_counting_and_states_the_empty_case(empty):
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 4, 5)) < 0.3, rng.random((3, 4, 5)) < 0.3
    a[1], b[1] = False, False  # both empty in one language
    per_lang = jaccard(a, b, empty=empty, axis=(1, 2))
    expected = [brute_force(a[i], b[i], empty) for i in range(3)]
    np.testing.assert_allclose(per_lang, expected)
    assert float(jaccard(a, b, empty=empty)) == pytest.approx(brute_force(a, b, empty))
    np.testing.assert_equal(float(jaccard(np.zeros(4, bool), np.zeros(4, bool), empty=empty)), empty)
