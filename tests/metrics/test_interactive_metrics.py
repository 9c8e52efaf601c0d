"""IFS (IWR-Bench's passed prefix), ifs_steps, Final, unreached steps, grounding stats."""
from __future__ import annotations

import pytest

from judge.tasks import Action
from metrics.interactive import (
    final_score,
    grounding_stats,
    ifs,
    ifs_steps,
    passed_prefix,
    summarize_steps,
)


def test_ifs_is_the_passed_prefix():
    assert ifs([True, True, False, True, True]) == pytest.approx(2 / 5)
    assert ifs_steps([True, True, False, True, True]) == pytest.approx(4 / 5)
    assert ifs([False, True, True]) == 0.0 and ifs_steps([False, True, True]) == pytest.approx(2 / 3)
    assert ifs([True] * 4) == 1.0 and passed_prefix([True] * 4) == 4
    assert ifs([]) == 0.0 and ifs_steps([]) == 0.0


@pytest.mark.parametrize("k,n", [(1, 5), (3, 5), (5, 5), (2, 9)])
def test_failure_at_k_scores_k_minus_1_over_n(k, n):
    passed = [i != k - 1 for i in range(n)]
    assert ifs(passed) == pytest.approx((k - 1) / n)


def test_final_is_iwr_bench_weighting():
    assert final_score(1.0, 0.0) == pytest.approx(0.7)
    assert final_score(0.5, 0.8) == pytest.approx(0.35 + 0.24)


def test_unreached_steps_fail_and_are_labelled():
    acts = [Action(type="click", description=f"click {i}") for i in range(4)]
    steps = [{"index": 0, "passed": True, "rung": "hints:role", "model_calls": 0},
             {"index": 1, "passed": False, "rung": "description", "model_calls": 0}]
    out = summarize_steps(steps, acts, "step 1 (act): renderer crashed")
    assert [s["passed"] for s in out] == [True, False, False, False]
    assert out[2]["verdict_source"] == "rule:not-reached" and "renderer crashed" in out[3]["verdict_reason"]


def test_grounding_stats_share_without_model():
    steps = [{"rung": "hints:role", "model_calls": 0}, {"rung": "llm", "model_calls": 1},
             {"rung": "window", "model_calls": 0}, {"rung": None, "model_calls": 2},
             {"rung": None, "reached": False, "model_calls": 0}]
    g = grounding_stats(steps)
    assert g["element_actions"] == 3 and g["without_model"] == pytest.approx(1 / 3) and g["model_calls"] == 3
    assert g["rungs"] == {"hints:role": 1, "llm": 1, "window": 1, "failed": 1}
