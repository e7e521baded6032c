"""A soak's verdict: every request accounted for on both sides, resources flat, nothing left.

`account` compares, request by request, what the load generator saw (one outcome per request
id) with what the emulator's ledger saw (how often each id was received and answered, and the
status it sent); `verdict` turns that, the resource trends and the leftovers into gates.
All pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.ledger import LedgerEntry
from harness.load.resources import Sample, Trend, trend
from harness.load.slo import GateResult
from harness.load.spec import SoakChecks
from harness.load.stats import ANSWERED_KINDS, classify

_SHOWN = 10  # ids listed per problem in the report


@dataclass(frozen=True)
class Accounting:
    sent: int
    """Requests the generator sent (its count)."""
    outcomes: int
    """Outcomes it recorded by id: one per request when nothing is lost."""
    lost: int
    """Sent but without an outcome."""
    client_duplicates: int
    """Ids with more than one outcome at the client."""
    server_received: int
    """Distinct ids the emulator received."""
    server_duplicates: int
    """Ids the emulator received more than once."""
    answered_twice: int
    """Ids the emulator answered more than once."""
    unanswered: int
    """Ids the emulator received but never answered."""
    mismatched: int
    """Ids whose status class at the client differs from the one the emulator sent."""
    never_reached: int
    """Ids that failed at the client (timeout, connection) and never reached the emulator."""
    answered_after_give_up: int
    """Ids the client gave up on (timeout) that the emulator answered later."""
    examples: dict[str, list[int]]

    @property
    def clean(self) -> bool:
        return not (self.lost or self.client_duplicates or self.server_duplicates
                    or self.answered_twice or self.unanswered or self.mismatched)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "clean": self.clean}


def account(sent: int, outcomes: Sequence[tuple[int, str]],
            ledger: Mapping[int, LedgerEntry], expected_ids: Iterable[int] | None = None
            ) -> Accounting:
    """Match the client's outcomes with the emulator's ledger, id by id.

    ``expected_ids``: the ids that were sent, when known (a run that sent its whole request
    count sends 0..N-1); without them, lost is ``sent`` minus the distinct ids with an outcome.
    """
    per_id = Counter(request_id for request_id, _kind in outcomes)
    kinds = dict(outcomes)
    examples: dict[str, list[int]] = {}

    def note(name: str, ids: Iterable[int]) -> int:
        found = sorted(ids)
        if found:
            examples[name] = found[:_SHOWN]
        return len(found)

    if expected_ids is not None:
        lost = note("lost", set(expected_ids) - per_id.keys())
    else:
        lost = max(0, sent - len(per_id))
    client_duplicates = note("client_duplicates", (i for i, n in per_id.items() if n > 1))
    server_duplicates = note("server_duplicates", (i for i, e in ledger.items() if e.received > 1))
    answered_twice = note("answered_twice", (i for i, e in ledger.items() if e.answered > 1))
    unanswered = note("unanswered", (i for i, e in ledger.items() if e.answered == 0))
    mismatched: list[int] = []
    never_reached: list[int] = []
    given_up: list[int] = []
    for request_id, kind in kinds.items():
        entry = ledger.get(request_id)
        if kind in ANSWERED_KINDS:
            if entry is None or entry.answered == 0 or classify(entry.status, None) != kind:
                mismatched.append(request_id)
        elif entry is None:
            never_reached.append(request_id)
        elif entry.answered:
            given_up.append(request_id)
    return Accounting(
        sent=sent, outcomes=len(outcomes), lost=lost, client_duplicates=client_duplicates,
        server_received=len(ledger), server_duplicates=server_duplicates,
        answered_twice=answered_twice, unanswered=unanswered,
        mismatched=note("mismatched", mismatched), never_reached=note("never_reached",
                                                                      never_reached),
        answered_after_give_up=note("answered_after_give_up", given_up), examples=examples)


def trends(samples: Sequence[Sample], checks: SoakChecks) -> list[Trend]:
    return [trend(samples, "rss_mb", checks.max_rss_growth_mb, checks.warmup),
            trend(samples, "fds", checks.max_fd_growth, checks.warmup),
            trend(samples, "threads", checks.max_thread_growth, checks.warmup)]


_TREND_GATES = {"rss_mb": ("harness memory growth", "MB"), "fds": ("open files growth", ""),
                "threads": ("threads growth", "")}


def gates(accounting: Accounting, resource_trends: Sequence[Trend],
          leftovers: Sequence[str]) -> list[GateResult]:
    """The soak's pass/fail lines, next to the SLO gates."""
    problems = (accounting.lost + accounting.client_duplicates + accounting.server_duplicates
                + accounting.answered_twice + accounting.unanswered + accounting.mismatched)
    result = [GateResult("requests unaccounted (lost, twice, mismatched)", 0, float(problems),
                         accounting.clean and accounting.sent > 0)]
    for item in resource_trends:
        name, unit = _TREND_GATES[item.series]
        result.append(GateResult(name, item.allowed, item.growth, item.flat, unit))
    result.append(GateResult("left running after stop", 0, float(len(leftovers)),
                             not leftovers))
    return result
