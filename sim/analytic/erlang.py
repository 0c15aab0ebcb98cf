"""Closed-form and exact-numerical queueing formulas for staffing planners.

This module collects the classic call-centre staffing formulas so that planners can
sanity-check the discrete-event simulation against textbook queueing theory:

* **Erlang B** (M/M/c/c, blocked calls cleared): :func:`erlang_b`.
* **Erlang C** (M/M/c, infinite patience): :func:`erlang_c`, :func:`erlang_c_asa` and
  :func:`erlang_c_service_level`.
* **Erlang A** (M/M/c+M, exponentially distributed patience): :func:`erlang_a`, solved
  exactly on the birth–death chain of the number of customers in the system.
* **Staffing rules**: square-root staffing (:func:`sqrt_staffing`,
  :func:`beta_for_service_level`) and exact minimum-staffing searches
  (:func:`min_agents_erlang_c`, :func:`min_agents_erlang_a`).

Conventions: all times are in seconds, arrival rates are per second and offered load is
in Erlangs (``load = arrival_rate × mean_service``). All functions are pure and only use
NumPy/SciPy. Invalid arguments (negative loads or times, fewer than one server,
non-finite values, probabilities outside their range) raise :class:`ValueError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq
from scipy.special import betainc, gammaln

FloatArray = npt.NDArray[np.float64]

#: Upper bound on the stationary probability mass discarded by truncating the Erlang A chain.
_TAIL_TOLERANCE = 1e-13
#: Trailing states whose combined mass is below this fraction are dropped after solving.
_TRIM_TOLERANCE = 1e-15
#: Hard cap on the number of states of the truncated Erlang A chain (memory guard).
_MAX_STATES = 20_000_000


# --------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------


def _check_servers(servers: int, name: str = "servers") -> int:
    """Validate a server count.

    Args:
        servers: Candidate number of servers.
        name: Argument name used in the error message.

    Returns:
        The server count as a plain ``int``.

    Raises:
        ValueError: If ``servers`` is not an integer or is smaller than 1.
    """
    if isinstance(servers, bool) or not isinstance(servers, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1, got {servers!r}")
    value = int(servers)
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return value


def _check_real(value: float, name: str, bound: str = "") -> float:
    """Validate that ``value`` is a finite real number, optionally ``>= 0`` or ``> 0``.

    Args:
        value: Candidate value.
        name: Argument name used in the error message.
        bound: ``">= 0"``, ``"> 0"`` or ``""`` (any finite number).

    Returns:
        The value as a ``float``.

    Raises:
        ValueError: If ``value`` is not a real number, is NaN/infinite, or breaks `bound`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    if (bound == ">= 0" and result < 0.0) or (bound == "> 0" and result <= 0.0):
        raise ValueError(f"{name} must be {bound}, got {result}")
    return result


def _check_target_probability(value: float, name: str) -> float:
    """Validate a service-level target, which must lie in ``[0, 1)``.

    Args:
        value: Candidate probability.
        name: Argument name used in the error message.

    Returns:
        The value as a ``float``.

    Raises:
        ValueError: If ``value`` is not finite or lies outside ``[0, 1)``.
    """
    result = _check_real(value, name)
    if not 0.0 <= result < 1.0:
        raise ValueError(f"{name} must lie in [0, 1) (1 is unattainable), got {result}")
    return result


# --------------------------------------------------------------------------------------
# Erlang B and Erlang C
# --------------------------------------------------------------------------------------


def _erlang_b_step(previous: float, servers: int, load: float) -> float:
    """Advance the Erlang B recursion from ``servers - 1`` to ``servers`` servers.

    Args:
        previous: Blocking probability with ``servers - 1`` servers.
        servers: New number of servers.
        load: Offered load in Erlangs.

    Returns:
        Blocking probability with ``servers`` servers.
    """
    return load * previous / (servers + load * previous)


def _erlang_c_from_b(blocking: float, servers: int, load: float) -> float:
    """Convert an Erlang B value into the Erlang C delay probability.

    Args:
        blocking: Erlang B blocking probability for the same ``servers`` and ``load``.
        servers: Number of servers.
        load: Offered load in Erlangs (must be ``< servers``).

    Returns:
        Probability that an arrival has to wait.
    """
    return servers * blocking / (servers - load * (1.0 - blocking))


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability of an M/M/c/c loss system.

    Uses the numerically stable recursion ``B(0) = 1``,
    ``B(k) = a·B(k−1) / (k + a·B(k−1))``, which never forms factorials or powers and
    therefore works for tens of thousands of servers.

    Args:
        servers: Number of servers (trunks, agents), at least 1.
        load: Offered load in Erlangs (arrival rate × mean holding time), ``>= 0``.

    Returns:
        Probability that an arriving call finds every server busy and is lost.

    Raises:
        ValueError: If ``servers < 1`` or ``load`` is negative or not finite.

    Example:
        >>> round(erlang_b(10, 5.0), 6)
        0.018385
    """
    c = _check_servers(servers)
    a = _check_real(load, "load", ">= 0")
    blocking = 1.0
    for k in range(1, c + 1):
        blocking = _erlang_b_step(blocking, k, a)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Erlang C probability that an arrival has to wait in an M/M/c queue.

    Computed from the stable Erlang B recursion via ``C = c·B / (c − a·(1 − B))``.

    Args:
        servers: Number of agents, at least 1.
        load: Offered load in Erlangs (arrival rate × mean service time), ``>= 0``.

    Returns:
        Probability of waiting. Returns ``1.0`` when ``load >= servers`` (the queue is
        unstable and every arrival eventually waits).

    Raises:
        ValueError: If ``servers < 1`` or ``load`` is negative or not finite.
    """
    c = _check_servers(servers)
    a = _check_real(load, "load", ">= 0")
    if a >= c:
        return 1.0
    return min(1.0, _erlang_c_from_b(erlang_b(c, a), c, a))


def erlang_c_asa(servers: int, load: float, mean_service_s: float) -> float:
    """Average speed of answer (mean wait of all arrivals) in an M/M/c queue.

    ``ASA = C(c, a) · s / (c − a)`` where ``s`` is the mean service time.

    Args:
        servers: Number of agents, at least 1.
        load: Offered load in Erlangs, ``>= 0``.
        mean_service_s: Mean service (handle) time in seconds, ``> 0``.

    Returns:
        Mean time in queue in seconds, averaged over all arrivals (including those
        answered immediately); ``math.inf`` when ``load >= servers``.

    Raises:
        ValueError: On invalid arguments.
    """
    c = _check_servers(servers)
    a = _check_real(load, "load", ">= 0")
    s = _check_real(mean_service_s, "mean_service_s", "> 0")
    if a >= c:
        return math.inf
    return erlang_c(c, a) * s / (c - a)


def erlang_c_service_level(servers: int, load: float, mean_service_s: float, target_s: float) -> float:
    """Erlang C service level: probability that the wait is at most ``target_s``.

    ``SL = 1 − C(c, a) · exp(−(c − a) · t / s)``.

    Args:
        servers: Number of agents, at least 1.
        load: Offered load in Erlangs, ``>= 0``.
        mean_service_s: Mean service (handle) time in seconds, ``> 0``.
        target_s: Answer-time target in seconds, ``>= 0``.

    Returns:
        ``P(wait <= target_s)``; ``0.0`` when ``load >= servers``.

    Raises:
        ValueError: On invalid arguments.
    """
    c = _check_servers(servers)
    a = _check_real(load, "load", ">= 0")
    s = _check_real(mean_service_s, "mean_service_s", "> 0")
    t = _check_real(target_s, "target_s", ">= 0")
    if a >= c:
        return 0.0
    return _service_level_from_c(erlang_c(c, a), c, a, s, t)


def _service_level_from_c(p_wait: float, servers: int, load: float, s: float, t: float) -> float:
    """Erlang C service level given an already computed delay probability.

    Args:
        p_wait: Erlang C delay probability.
        servers: Number of agents.
        load: Offered load in Erlangs (``< servers``).
        s: Mean service time in seconds.
        t: Answer-time target in seconds.

    Returns:
        ``1 − p_wait · exp(−(servers − load) · t / s)`` clipped to ``[0, 1]``.
    """
    return min(1.0, max(0.0, 1.0 - p_wait * math.exp(-(servers - load) * t / s)))


# --------------------------------------------------------------------------------------
# Erlang A (M/M/c+M)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady-state performance of an M/M/c+M (Erlang A) queue.

    Attributes:
        p_wait: Probability that an arrival finds all servers busy and has to queue.
        p_abandon: Probability that an arrival abandons before reaching an agent.
        asa_s: Average speed of answer: mean wait of the customers who are served.
        mean_wait_s: Mean time in queue of all arrivals, served or abandoned.
        service_level: Probability that an arrival is served *and* waits at most
            ``target_s`` (answered within target divided by all arrivals); ``None`` when
            no target was given.
        occupancy: Mean number of busy agents divided by the number of agents.
    """

    p_wait: float
    p_abandon: float
    asa_s: float
    mean_wait_s: float
    service_level: float | None
    occupancy: float


def _death_rates(first: int, last: int, servers: int, mu: float, theta: float) -> FloatArray:
    """Death rates of the Erlang A chain for states ``first..last`` inclusive.

    Args:
        first: First state (number in system).
        last: Last state (inclusive).
        servers: Number of servers.
        mu: Service rate per server.
        theta: Abandonment rate per waiting customer.

    Returns:
        ``min(n, c)·μ + max(n − c, 0)·θ`` for each state ``n``.
    """
    n = np.arange(first, last + 1, dtype=np.float64)
    return np.minimum(n, servers) * mu + np.maximum(n - servers, 0.0) * theta


def _erlang_a_stationary(servers: int, lam: float, mu: float, theta: float) -> FloatArray:
    """Stationary distribution of the number in system of an M/M/c+M queue.

    The chain is truncated at a state ``N`` chosen adaptively so that the discarded tail
    mass is below ``_TAIL_TOLERANCE``: since death rates are non-decreasing, once the
    ratio ``q = λ / d(N+1)`` is below one the tail beyond ``N`` is bounded by
    ``π_N · q / (1 − q)``. Trailing states holding less than ``_TRIM_TOLERANCE`` of the
    mass are then dropped, so the total discarded mass stays far below 1e-12.

    Args:
        servers: Number of servers ``c``.
        lam: Arrival rate ``λ > 0``.
        mu: Service rate per server ``μ > 0``.
        theta: Abandonment rate per waiting customer ``θ > 0``.

    Returns:
        Array ``π_0..π_N`` summing to one (``N >= c``).

    Raises:
        ValueError: If the required truncation exceeds the state-space cap.
    """
    c = servers
    log_lam = math.log(lam)
    # Below and at c the weights are Poisson-like: log w_n = n log a − log n!.
    n_low = np.arange(0, c + 1, dtype=np.float64)
    log_low = n_low * math.log(lam / mu) - gammaln(n_low + 1.0)
    # Queue length where arrivals balance departures, plus a generous spread.
    centre = max(0.0, (lam - c * mu) / theta)
    queue_states = int(centre + 12.0 * math.sqrt(lam / theta + 1.0)) + 64
    while True:
        if c + queue_states > _MAX_STATES:
            raise ValueError(
                "Erlang A state space too large; check that the patience is not "
                "vanishingly short compared with the arrival rate"
            )
        death_high = _death_rates(c + 1, c + queue_states, c, mu, theta)
        log_high = log_low[-1] + np.cumsum(log_lam - np.log(death_high))
        log_w = np.concatenate([log_low, log_high])
        weights = np.exp(log_w - log_w.max())
        q = lam / (c * mu + (queue_states + 1) * theta)
        if q < 1.0 and weights[-1] * q / (1.0 - q) <= _TAIL_TOLERANCE * weights.sum():
            break
        queue_states *= 2
    # Drop trailing states whose combined mass is negligible (keeps later work small).
    tail_mass = np.cumsum(weights[::-1])[::-1]
    significant = np.nonzero(tail_mass > _TRIM_TOLERANCE * tail_mass[0])[0]
    last = max(c, int(significant[-1]))
    result: FloatArray = weights[: last + 1] / weights[: last + 1].sum()
    return result


def _served_within(
    waiting_probs: FloatArray, servers: int, mu: float, theta: float, target_s: float
) -> float:
    """Probability that an arrival who must queue is answered within ``target_s``.

    An arrival that finds ``j`` customers waiting reaches a server after
    ``T = Σ_{k=0..j} Exp(r_k)`` with ``r_k = cμ + kθ`` and is answered iff ``T`` beats its
    own ``Exp(θ)`` patience, so ``P(answered by t | j) = E[exp(−θT)·1{T <= t}]``.
    Exponentially tilting each stage gives
    ``E[exp(−θT)·1{T <= t}] = P(served | j) · P(T' <= t)`` where ``T'`` is a sum of
    independent exponentials with rates ``cμ + iθ``, ``i = 1..j+1``, and
    ``P(served | j) = Π r_k / (r_k + θ) = cμ / (cμ + (j + 1)θ)``. The Laplace transform of
    ``T'`` is a ratio of Gamma functions, which shows that ``exp(−θT') ~ Beta(cμ/θ + 1,
    j + 1)``; hence ``P(T' <= t) = I_{1 − exp(−θt)}(j + 1, cμ/θ + 1)`` with ``I`` the
    regularised incomplete beta function. This is exact, free of cancellation and O(J).

    Args:
        waiting_probs: ``π_{c+j}`` for ``j = 0..J``.
        servers: Number of servers ``c``.
        mu: Service rate per server.
        theta: Abandonment rate.
        target_s: Answer-time target in seconds.

    Returns:
        ``Σ_j π_{c+j} · P(reach a server within target_s before abandoning | j waiting)``.
    """
    if target_s == 0.0 or waiting_probs.size == 0:
        return 0.0
    ratio = servers * mu / theta
    ahead = np.arange(waiting_probs.size, dtype=np.float64)
    p_served = ratio / (ratio + ahead + 1.0)
    p_reach = betainc(ahead + 1.0, ratio + 1.0, -math.expm1(-theta * target_s))
    return float(np.dot(waiting_probs, p_served * p_reach))


def erlang_a(
    servers: int,
    arrival_rate_per_s: float,
    mean_service_s: float,
    mean_patience_s: float,
    target_s: float | None = None,
) -> ErlangAResult:
    """Exact steady-state metrics of the Erlang A (M/M/c+M) queue.

    Customers arrive as a Poisson process, are served FCFS by ``servers`` agents with
    exponential service times and abandon the queue after an exponential patience.
    The number in system is a birth–death chain with birth rate ``λ`` and death rate
    ``min(n, c)·μ + max(n − c, 0)·θ``; it is solved exactly on a truncation whose
    discarded tail mass is below 1e-12. By PASTA:

    * ``p_wait = P(N >= c)``;
    * ``mean_wait_s = E[(N − c)^+] / λ`` (Little's law) and
      ``p_abandon = θ · E[(N − c)^+] / λ``;
    * an arrival that finds ``j = n − c`` customers waiting reaches a server after a sum of
      independent exponential stages with rates ``r_k = cμ + kθ`` (``k = j, …, 0``), and
      is served iff that happens before its own ``Exp(θ)`` patience expires, so
      ``P(served | j) = Π r_k / (r_k + θ)`` and
      ``E[W·1{served} | j] = P(served | j) · Σ 1 / (r_k + θ)``, which gives ``asa_s``;
    * ``service_level`` uses ``P(answered within t | j) = P(served | j) · I_x(j + 1,
      cμ/θ + 1)`` with ``x = 1 − exp(−θt)`` and ``I`` the regularised incomplete beta
      function (exact; see ``_served_within``).

    Args:
        servers: Number of agents, at least 1.
        arrival_rate_per_s: Arrival rate ``λ`` in customers per second, ``>= 0``.
        mean_service_s: Mean service time ``1/μ`` in seconds, ``> 0``.
        mean_patience_s: Mean patience ``1/θ`` in seconds, ``> 0`` and finite.
        target_s: Optional answer-time target in seconds, ``>= 0``.

    Returns:
        The :class:`ErlangAResult` for these parameters. With zero arrivals every
        probability and wait is zero and the service level is one.

    Raises:
        ValueError: On invalid arguments.
    """
    c = _check_servers(servers)
    lam = _check_real(arrival_rate_per_s, "arrival_rate_per_s", ">= 0")
    s = _check_real(mean_service_s, "mean_service_s", "> 0")
    patience = _check_real(mean_patience_s, "mean_patience_s", "> 0")
    t = None if target_s is None else _check_real(target_s, "target_s", ">= 0")
    if lam == 0.0:
        return ErlangAResult(
            p_wait=0.0,
            p_abandon=0.0,
            asa_s=0.0,
            mean_wait_s=0.0,
            service_level=None if t is None else 1.0,
            occupancy=0.0,
        )
    mu = 1.0 / s
    theta = 1.0 / patience
    pi = _erlang_a_stationary(c, lam, mu, theta)
    waiting = pi[c:]
    p_immediate = float(pi[:c].sum())
    p_wait = float(waiting.sum())
    queue_length = float(np.dot(np.arange(waiting.size, dtype=np.float64), waiting))
    busy = float(np.dot(np.arange(c, dtype=np.float64), pi[:c])) + c * p_wait

    # Per-arrival quantities for an arrival that finds j = 0..J customers waiting:
    # stage rates r_k = cμ + kθ, P(served | j) = Π r_k/(r_k + θ) = cμ/(cμ + (j+1)θ).
    exits = c * mu + (np.arange(waiting.size, dtype=np.float64) + 1.0) * theta
    p_served_given_j = (c * mu) / exits
    sum_inverse = np.cumsum(1.0 / exits)
    served_wait = float(np.dot(waiting, p_served_given_j * sum_inverse))
    p_served = p_immediate + float(np.dot(waiting, p_served_given_j))

    service_level = None
    if t is not None:
        within = _served_within(waiting, c, mu, theta, t)
        service_level = min(1.0, max(0.0, p_immediate + within))

    return ErlangAResult(
        p_wait=min(1.0, p_wait),
        p_abandon=min(1.0, theta * queue_length / lam),
        asa_s=served_wait / p_served,
        mean_wait_s=queue_length / lam,
        service_level=service_level,
        occupancy=min(1.0, busy / c),
    )


# --------------------------------------------------------------------------------------
# Staffing rules
# --------------------------------------------------------------------------------------


def sqrt_staffing(load: float, beta: float) -> int:
    """Square-root staffing rule ``c = ⌈R + β·√R⌉``.

    A relative tolerance of 1e-9 is applied before rounding up so that values such as
    ``14.000000000000002`` caused by floating-point error are not bumped to 15.

    Args:
        load: Offered load ``R`` in Erlangs, ``>= 0``.
        beta: Quality-of-service parameter ``β`` (any finite real; negative values give
            efficiency-driven staffing below the load). The result is never negative.

    Returns:
        Number of agents.

    Raises:
        ValueError: If ``load`` is negative or either argument is not finite.
    """
    r = _check_real(load, "load", ">= 0")
    b = _check_real(beta, "beta")
    raw = r + b * math.sqrt(r)
    return max(0, math.ceil(raw - 1e-9 * max(1.0, abs(raw))))


def _halfin_whitt_delay(beta: float) -> float:
    """Halfin–Whitt approximation of the delay probability, ``[1 + βΦ(β)/φ(β)]^{-1}``.

    Args:
        beta: Square-root safety factor, ``> 0``.

    Returns:
        Approximate probability of waiting.
    """
    density = math.exp(-0.5 * beta * beta) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * math.erfc(-beta / math.sqrt(2.0))
    return density / (density + beta * cdf)


def beta_for_service_level(
    load: float, mean_service_s: float, target_s: float, service_level: float
) -> float:
    """Square-root staffing factor ``β`` that meets an Erlang C service-level target.

    Solves the Halfin–Whitt (QED) approximation of the Erlang C service level,
    ``1 − α(β)·exp(−β·√R·t/s) = SL`` with ``α(β) = [1 + βΦ(β)/φ(β)]^{-1}``, for
    ``β > 0``. Feed the result to :func:`sqrt_staffing`. The approximation is excellent
    for large loads and conservative-to-rough for loads of a few Erlangs; use
    :func:`min_agents_erlang_c` for exact answers.

    Args:
        load: Offered load ``R`` in Erlangs, ``> 0``.
        mean_service_s: Mean service time ``s`` in seconds, ``> 0``.
        target_s: Answer-time target ``t`` in seconds, ``>= 0``.
        service_level: Required fraction answered within target, in ``(0, 1)``.

    Returns:
        The safety factor ``β > 0``.

    Raises:
        ValueError: On invalid arguments.
    """
    r = _check_real(load, "load", "> 0")
    s = _check_real(mean_service_s, "mean_service_s", "> 0")
    t = _check_real(target_s, "target_s", ">= 0")
    goal = _check_target_probability(service_level, "service_level")
    if goal == 0.0:
        raise ValueError("service_level must be > 0 for beta_for_service_level")
    scale = math.sqrt(r) * t / s

    def shortfall(beta: float) -> float:
        return 1.0 - _halfin_whitt_delay(beta) * math.exp(-beta * scale) - goal

    upper = 1.0
    while shortfall(upper) < 0.0:
        upper *= 2.0
    return float(brentq(shortfall, 0.0, upper, xtol=1e-12, rtol=1e-12))


def min_agents_erlang_c(load: float, mean_service_s: float, target_s: float, service_level: float) -> int:
    """Fewest agents meeting an Erlang C service-level target.

    Scans ``c = 1, 2, …`` with the Erlang B recursion carried along (O(c) overall) and
    returns the first ``c`` with ``load < c`` and
    ``erlang_c_service_level(c, load, mean_service_s, target_s) >= service_level``.

    Args:
        load: Offered load in Erlangs, ``>= 0``.
        mean_service_s: Mean service time in seconds, ``> 0``.
        target_s: Answer-time target in seconds, ``>= 0``.
        service_level: Required fraction answered within target, in ``[0, 1)``.

    Returns:
        The minimum number of agents (at least 1).

    Raises:
        ValueError: On invalid arguments.
    """
    a = _check_real(load, "load", ">= 0")
    s = _check_real(mean_service_s, "mean_service_s", "> 0")
    t = _check_real(target_s, "target_s", ">= 0")
    goal = _check_target_probability(service_level, "service_level")
    blocking = 1.0
    c = 0
    while True:
        c += 1
        blocking = _erlang_b_step(blocking, c, a)
        if a >= c:
            continue
        p_wait = min(1.0, _erlang_c_from_b(blocking, c, a))
        if _service_level_from_c(p_wait, c, a, s, t) >= goal:
            return c


def min_agents_erlang_a(
    arrival_rate_per_s: float,
    mean_service_s: float,
    mean_patience_s: float,
    target_s: float,
    service_level: float,
    max_abandon: float | None = None,
) -> int:
    """Fewest agents meeting an Erlang A service-level (and abandonment) target.

    The service level is :attr:`ErlangAResult.service_level` (answered within target
    over all arrivals, abandonments count as misses). Both it and the abandonment
    probability improve monotonically with the number of agents, so the answer is found
    by doubling followed by bisection.

    Args:
        arrival_rate_per_s: Arrival rate in customers per second, ``>= 0``.
        mean_service_s: Mean service time in seconds, ``> 0``.
        mean_patience_s: Mean patience in seconds, ``> 0`` and finite.
        target_s: Answer-time target in seconds, ``>= 0``.
        service_level: Required fraction answered within target, in ``[0, 1)``.
        max_abandon: Optional cap on the abandonment probability, in ``(0, 1]``.

    Returns:
        The minimum number of agents (at least 1).

    Raises:
        ValueError: On invalid arguments.
    """
    lam = _check_real(arrival_rate_per_s, "arrival_rate_per_s", ">= 0")
    s = _check_real(mean_service_s, "mean_service_s", "> 0")
    patience = _check_real(mean_patience_s, "mean_patience_s", "> 0")
    t = _check_real(target_s, "target_s", ">= 0")
    goal = _check_target_probability(service_level, "service_level")
    cap = None
    if max_abandon is not None:
        cap = _check_real(max_abandon, "max_abandon")
        if not 0.0 < cap <= 1.0:
            raise ValueError(f"max_abandon must lie in (0, 1], got {cap}")

    def meets(c: int) -> bool:
        result = erlang_a(c, lam, s, patience, t)
        level = result.service_level
        return level is not None and level >= goal and (cap is None or result.p_abandon <= cap)

    found = smallest_meeting(meets, 1, max(1, math.ceil(lam * s)))
    assert found is not None  # without a cap the doubling goes on until a count meets the targets
    return found


def smallest_meeting(ok: Callable[[int], bool], low: int, high: int, cap: int | None = None) -> int | None:
    """The smallest agent count c in [low, cap] with ok(c), for ok false up to some count and true from it.

    Tries `high` first, doubling it while ok fails (not past `cap`), then bisects between
    the last count that failed and the first that met it.

    Args:
        ok: whether c agents meet the target; monotone in c.
        low: the smallest count considered, ``>= 1``.
        high: the first count tried, ``>= low``.
        cap: the most agents considered (None: no limit).

    Returns:
        The smallest such count, or None when ok(cap) fails.
    """
    while not ok(high):
        if cap is not None and high >= cap:
            return None
        low, high = high + 1, 2 * high if cap is None else min(cap, 2 * high)
    # Invariant: ok(high) holds and every c < low fails.
    while low < high:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid + 1
    return high
