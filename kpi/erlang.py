"""Erlang C: how many agents a queue needs.

Traffic A (Erlangs) = arrivals per second x average handle time in
seconds. With N agents (N > A), the probability that a contact has to wait
is Erlang's C formula; computed here through the Erlang B recurrence,
which stays exact where the factorials of the textbook form overflow.
"""

from __future__ import annotations

import math


def erlang_b(traffic: float, agents: int) -> float:
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def wait_probability(traffic: float, agents: int) -> float:
    """Erlang C: the share of contacts that wait at all (1 if N <= A)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def service_level(traffic: float, agents: int, target_seconds: float, handle_seconds: float) -> float:
    """The share answered within target_seconds."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1 - wait_probability(traffic, agents) * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


def average_speed_of_answer(traffic: float, agents: int, handle_seconds: float) -> float:
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return wait_probability(traffic, agents) * handle_seconds / (agents - traffic)


def agents_needed(contacts_per_hour: float, handle_seconds: float, target_seconds: float,
                  target_share: float) -> int:
    """The fewest agents that answer target_share of contacts within
    target_seconds (0 when nothing arrives)."""
    if contacts_per_hour <= 0 or handle_seconds <= 0:
        return 0
    traffic = contacts_per_hour * handle_seconds / 3600
    agents = max(1, math.floor(traffic) + 1)
    while service_level(traffic, agents, target_seconds, handle_seconds) < target_share:
        agents += 1
    return agents
