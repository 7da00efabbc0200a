"""A stand-in for Lengo Pay: the tests' fake Lengo and `saleor-lengo simulator`.

It answers exactly as API.md describes (guesses are marked where they are
made) and can be told to misbehave: fail, hang, be slow, or create a
payment and then answer 500.
"""

from __future__ import annotations

from saleor_lengo.simulator.api import LengoState, SimPayment, create_app

__all__ = ["LengoState", "SimPayment", "create_app"]
