"""Lengo's callbacks: recorded first (`receive`), then confirmed with Lengo's status endpoint (`confirm`).

A callback is unsigned, so it is only ever a hint that a payment may have
moved. What changes a payment is what Lengo's status endpoint reports,
asked with the payment's own configuration; the callback row is the
merchant's audit trail of what was received and what came of it.

The callbacks of one payment share its status check (`gate`): one at most
every 10 s, settling every callback of the payment received before it
asked; and a payment keeps its first 100 rows, counting the rest (`kept`).

Life of a `callbacks` row (`outcome`):

    recorded ──▶ confirmed      Lengo's status agrees with the callback (and was applied)
       │    ──▶ unconfirmed    Lengo's status disagrees (forged or early): applied as Lengo says, logged
       │    ──▶ duplicate      the payment had already succeeded: a late copy, confirming what is known
       │    ──▶ ignored        nothing to confirm (the payment never reached Lengo)
       │    ──▶ abandoned      the status endpoint stayed unreachable through every retry
    waiting_pay_id ──▶ recorded | mismatch | ignored   once the create's answer is stored
    mismatch                   its pay_id is not the payment's: suspicious, never confirmed
    malformed                  the body could not be read: kept for the audit trail only
"""
