"""Erlang C against published values.

References:
- The Call Centre Helper worked example ("Erlang C Formula - Made Simple
  With an Easy Worked Example": 100 calls in 30 minutes, 180 s average
  handle time, 80% answered in 20 s), whose figures the R package ErlangC
  0.1.0 reproduces in its reference manual (CRAN, 2024;
  https://rdocumentation.org/packages/ErlangC/versions/0.1.0): traffic
  10 Erlangs; with 11 agents a call waits with probability 0.6821182; with
  14 agents 0.1741319, 88.835% answered within 20 s, average speed of
  answer 7.8359 s, occupancy 0.7142857; 14 agents needed for 80/20.
- The textbook case c = 3 servers, a = 2 Erlangs, whose probability of
  waiting is exactly 4/9: sum_{k<3} 2^k/k! = 5 and (2^3/3!) * 3/(3-2) = 4,
  so 4 / (5 + 4).
"""

import math

import pytest

from kpi import erlang


def close(published, relative=0.005):
    """Within 0.5% of the published value."""
    return pytest.approx(published, rel=relative)


def test_the_probability_of_waiting_matches_the_published_table():
    assert erlang.wait_probability(10, 11) == close(0.6821182)
    assert erlang.wait_probability(10, 14) == close(0.1741319)
    assert erlang.wait_probability(2, 3) == close(4 / 9)


def test_service_level_and_speed_of_answer_match():
    assert erlang.service_level(10, 14, target_seconds=20, handle_seconds=180) == close(0.88835)
    assert erlang.average_speed_of_answer(10, 14, handle_seconds=180) == close(7.83593701177724)


def test_agents_needed_for_80_percent_in_20_seconds():
    # 100 calls per half hour = 200 per hour.
    assert erlang.agents_needed(200, handle_seconds=180, target_seconds=20, target_share=0.8) == 14
    # One fewer falls short of the target.
    assert erlang.service_level(10, 13, 20, 180) < 0.8


def test_the_recurrence_stays_exact_where_factorials_overflow():
    # 500 Erlangs: 500**510 / 510! overflows a float; the recurrence does not.
    p = erlang.wait_probability(500, 530)
    assert 0 < p < 1 and not math.isnan(p)
    assert erlang.agents_needed(6000, 300, 20, 0.8) > 500


def test_edges():
    assert erlang.wait_probability(0, 3) == 0
    assert erlang.wait_probability(5, 5) == 1  # as many agents as Erlangs: the queue never empties
    assert erlang.agents_needed(0, 180, 20, 0.8) == 0
    assert erlang.service_level(10, 10, 20, 180) == 0
