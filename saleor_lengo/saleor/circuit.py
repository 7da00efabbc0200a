"""Whether a Saleor answers, per installation, as this process's relay sees it (a circuit breaker).

Closed: rows are sent as they fall due. After OPEN_AFTER_FAILURES requests in
a row found Saleor unreachable (network error, 5xx), the circuit opens: no
row of that installation is sent but one probe at a time, the first after
FIRST_PROBE_SECONDS, then at doubling intervals capped at MAX_PROBE_SECONDS.
The first probe Saleor answers closes it, and the relay makes every row that
was waiting for that Saleor due at once (`relay._close`), instead of letting
each row's own backoff (up to 15 minutes) run on. A row's own backoff stays
for what belongs to the row (a GraphQL error in its result).

It also remembers whether a Saleor takes batched requests: Saleor refuses a
JSON list of more than `GRAPHQL_BATCH_MAX_COUNT` operations, and that
setting's default is 1. After a refusal, that Saleor gets one report per
request for BATCHES_REFUSED_SECONDS, then a batch is tried again (its
operator may have raised the setting).

Each process keeps its own circuits (they are cheap to learn again); the
relay writes the open ones to `saleor_circuits` so that metrics and
`saleor-lengo outbox list` show them whichever process asks.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN_AFTER_FAILURES = 3
FIRST_PROBE_SECONDS = 0.5
MAX_PROBE_SECONDS = 5.0
BATCHES_REFUSED_SECONDS = 3600.0


@dataclass
class _Circuit:
    failures: int = 0
    open: bool = False
    answered_once: bool = False
    next_probe_at: float = 0.0
    interval: float = FIRST_PROBE_SECONDS
    batches_refused_until: float = 0.0


class Circuits:
    def __init__(self) -> None:
        self._by_installation: dict[int, _Circuit] = {}
        # Rows left waiting by an earlier process have been looked for (relay.run_once).
        self.adopted = False

    def _get(self, installation_id: int) -> _Circuit:
        return self._by_installation.setdefault(installation_id, _Circuit())

    def is_open(self, installation_id: int) -> bool:
        circuit = self._by_installation.get(installation_id)
        return circuit is not None and circuit.open

    def open_ids(self) -> set[int]:
        return {i for i, c in self._by_installation.items() if c.open}

    def healthy(self, installation_id: int) -> bool:
        """Its last request was answered: a claimed batch can go out at once, without a probe first."""
        circuit = self._by_installation.get(installation_id)
        return circuit is not None and circuit.answered_once and not circuit.open and circuit.failures == 0

    def probes_due(self, now: float) -> list[int]:
        return [i for i, c in self._by_installation.items() if c.open and c.next_probe_at <= now]

    def next_probe_in(self, now: float) -> float | None:
        """Seconds until the next probe of any open circuit, None when none is open."""
        due = [c.next_probe_at for c in self._by_installation.values() if c.open]
        return max(0.0, min(due) - now) if due else None

    def adopt(self, installation_id: int, now: float) -> None:
        """Rows an earlier process left waiting for this Saleor: open, with a probe due now."""
        circuit = self._get(installation_id)
        circuit.open, circuit.next_probe_at, circuit.interval = True, now, FIRST_PROBE_SECONDS

    def failed(self, installation_id: int, now: float) -> bool:
        """A request found Saleor unreachable; True when this opened the circuit."""
        circuit = self._get(installation_id)
        circuit.failures += 1
        if circuit.open:
            circuit.interval = min(MAX_PROBE_SECONDS, circuit.interval * 2)
            circuit.next_probe_at = now + circuit.interval
            return False
        if circuit.failures < OPEN_AFTER_FAILURES:
            return False
        circuit.open, circuit.interval = True, FIRST_PROBE_SECONDS
        circuit.next_probe_at = now + circuit.interval
        return True

    def answered(self, installation_id: int) -> bool:
        """Saleor answered a request; True when this closed an open circuit."""
        circuit = self._get(installation_id)
        was_open = circuit.open
        circuit.failures, circuit.open, circuit.answered_once = 0, False, True
        circuit.interval = FIRST_PROBE_SECONDS
        return was_open

    def takes_batches(self, installation_id: int, now: float) -> bool:
        """Whether a batched request is worth sending: no refusal within BATCHES_REFUSED_SECONDS."""
        circuit = self._by_installation.get(installation_id)
        return circuit is None or circuit.batches_refused_until <= now

    def batches_refused(self, installation_id: int, now: float) -> bool:
        """Saleor refused a batched request; True when this is news (not already remembered)."""
        circuit = self._get(installation_id)
        news = circuit.batches_refused_until <= now
        circuit.batches_refused_until = now + BATCHES_REFUSED_SECONDS
        return news
