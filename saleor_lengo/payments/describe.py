"""A payment's state in words a merchant reads (saleor_lengo.words, so they can be said in French too)."""

from __future__ import annotations

from saleor_lengo.payments.model import Payment, State
from saleor_lengo.words import Words, words

__all__ = ["state_name", "state_words"]


def state_words(payment: Payment) -> Words:
    return {
        State.CREATING: words("its payment link is still being created"),
        State.ACTION_REQUIRED: words("it is not paid yet"),
        State.SUCCEEDED: words("it is paid"),
        State.FAILED: words("it failed"),
        State.CANCELED: words("it was canceled"),
        State.EXPIRED: words("it expired unpaid"),
        State.NEEDS_REVIEW: words(
            "it is held for staff review: Lengo Pay reported it paid with an amount that cannot be right"
        ),
        State.CLOSED: words("staff closed it as not charged"),
    }[payment.state]


def state_name(payment: Payment) -> Words:
    """The state in one word, as in "Already canceled"."""
    return {
        State.CREATING: words("creating"),
        State.ACTION_REQUIRED: words("waiting for payment"),
        State.SUCCEEDED: words("paid"),
        State.FAILED: words("failed"),
        State.CANCELED: words("canceled"),
        State.EXPIRED: words("expired"),
        State.NEEDS_REVIEW: words("held for review"),
        State.CLOSED: words("closed"),
    }[payment.state]
