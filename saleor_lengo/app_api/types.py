"""The app API's GraphQL types and inputs (strawberry), built from the resolvers' domain objects.

Money is an exact decimal string, times are UTC ISO 8601, the license key
only ever masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from saleor_lengo import configurations as config_store
from saleor_lengo.app_api.context import ApiContext
from saleor_lengo.app_api.resolvers import payments as payment_resolvers
from saleor_lengo.app_api.resolvers import refunds as refund_resolvers
from saleor_lengo.app_api.resolvers import timeline as timeline_resolvers
from saleor_lengo.flows.order_search import OrderLink
from saleor_lengo.outbox.causes import cause_of, fails_again
from saleor_lengo.payments.model import Payment as PaymentModel
from saleor_lengo.payments.model import State


def _money(value: Decimal | str | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value), "f")


def _time(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


# --- Types -------------------------------------------------------------------


@strawberry.enum(description="Where a payment is in its life.")
class PaymentState(Enum):
    CREATING = "creating"
    ACTION_REQUIRED = "action_required"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    NEEDS_REVIEW = "needs_review"
    CLOSED = "closed"


@strawberry.enum(description="How much of a paid payment went back to the shopper.")
class RefundStatus(Enum):
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"


# Lengo said the money moved (a refund by hand leaves the state SUCCEEDED).
_PAID_BY_LENGO = (State.SUCCEEDED, State.NEEDS_REVIEW)


def refund_status(p: PaymentModel) -> RefundStatus | None:
    """A paid payment with money sent back is no longer simply "paid": compared exactly, as Decimals."""
    if p.state == State.SUCCEEDED and p.refunded_amount > 0:
        return RefundStatus.REFUNDED if p.refunded_amount >= p.charged_amount else RefundStatus.PARTLY_REFUNDED
    return None


@strawberry.enum(description="What a timeline entry records.")
class TimelineKind(Enum):
    CREATED = "CREATED"
    LENGO_REQUEST = "LENGO_REQUEST"
    CALLBACK = "CALLBACK"
    STATUS_CHECK = "STATUS_CHECK"
    TRANSITION = "TRANSITION"
    EVENT = "EVENT"
    ACTION_REQUEST = "ACTION_REQUEST"
    PAYOUT = "PAYOUT"


@strawberry.enum(description="What a timeline entry means to the merchant, when it is an outcome rather than a technical step.")
class TimelineMilestone(Enum):
    CREATED = "CREATED"
    WAITING = "WAITING"
    PAID = "PAID"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    CLOSED = "CLOSED"
    REPORTED = "REPORTED"
    REPORT_WAITING = "REPORT_WAITING"
    REPORT_REFUSED = "REPORT_REFUSED"
    REFUNDED = "REFUNDED"
    SALEOR_ASKED = "SALEOR_ASKED"
    PAYOUT_AWAITING_APPROVAL = "PAYOUT_AWAITING_APPROVAL"
    PAYOUT_SENDING = "PAYOUT_SENDING"
    PAYOUT_FAILED = "PAYOUT_FAILED"
    PAYOUT_NEEDS_REVIEW = "PAYOUT_NEEDS_REVIEW"


@strawberry.type(description="Who is using the page, and what they may do.")
class Viewer:
    email: str | None
    can_write: bool
    saleor_api_url: str


@strawberry.type(description="A Lengo Pay account connection. The license key is only ever shown masked.")
class Configuration:
    id: strawberry.ID
    name: str
    website_id: str
    license_key: str = strawberry.field(description="Masked: the last 4 characters only.")
    environment: str
    lengo_url: str
    currencies: list[str]
    min_amount: str | None
    max_amount: str | None
    return_url_patterns: list[str]
    default_return_url: str | None
    channels: list[str] = strawberry.field(description="Saleor channel ids or slugs mapped to it.")
    payout_mode: str = strawberry.field(
        default="off", description="Refunds paid out to the payer's wallet: off, automatic or approval."
    )
    payout_daily_limit: str | None = strawberry.field(
        default=None, description="The most paid out over any 24 hours, in the configuration's currency."
    )
    language: str = strawberry.field(
        default="en", description="The language of the messages written into Saleor for its payments: en or fr."
    )

    @classmethod
    def of(cls, c: config_store.Configuration) -> Configuration:
        public = c.public()
        return cls(
            id=strawberry.ID(str(c.id)),
            name=c.name,
            website_id=c.website_id,
            license_key=public["licenseKey"],
            environment=c.environment,
            lengo_url=c.lengo_url,
            currencies=list(c.currencies),
            min_amount=public["minAmount"],
            max_amount=public["maxAmount"],
            return_url_patterns=list(c.return_url_patterns),
            default_return_url=c.default_return_url,
            channels=list(c.channels),
            payout_mode=c.payout_mode,
            payout_daily_limit=public["payoutDailyLimit"],
            language=c.language,
        )


@strawberry.type(description="A Saleor channel and the configuration that takes its payments.")
class Channel:
    id: strawberry.ID
    slug: str
    name: str
    currency: str
    configuration: Configuration | None
    mapped_as: str | None = strawberry.field(description="The channel id or slug the mapping is stored under.")


@strawberry.type(description="One entry of a payment's timeline; fields not relevant to its kind are null.")
class TimelineEntry:
    kind: TimelineKind
    at: datetime
    seq: int = strawberry.field(description="Its place in the timeline, from 1: the true order, which the time alone cannot give.")
    milestone: TimelineMilestone | None = strawberry.field(
        description="The outcome a merchant reads; null for a technical step."
    )
    operation: str | None = None
    http_status: int | None = None
    outcome: str | None = None
    duration_ms: float | None = None
    status: str | None = None
    amount: str | None = None
    currency: str | None = None
    gateway: str | None = None
    source: str | None = None
    phone: str | None = strawberry.field(default=None, description="The payer's phone, masked.")
    from_state: str | None = None
    to_state: str | None = None
    event_type: str | None = None
    psp_reference: str | None = None
    outbox_state: str | None = None
    attempts: int | None = None
    delivered_at: datetime | None = None
    detail: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, e: timeline_resolvers.Entry) -> TimelineEntry:
        f = e.fields
        return cls(
            kind=TimelineKind(e.kind),
            at=e.at,
            seq=e.seq,
            milestone=TimelineMilestone(e.milestone) if e.milestone else None,
            operation=f.get("operation"),
            http_status=f.get("http_status"),
            outcome=f.get("outcome"),
            duration_ms=f.get("duration_ms"),
            status=f.get("status"),
            amount=_money(f.get("amount")),
            currency=f.get("currency"),
            gateway=f.get("gateway"),
            source=f.get("source"),
            phone=f.get("phone"),
            from_state=f.get("from_state"),
            to_state=f.get("to_state"),
            event_type=f.get("event_type"),
            psp_reference=f.get("psp_reference"),
            outbox_state=f.get("outbox_state"),
            attempts=f.get("attempts"),
            delivered_at=f.get("delivered_at"),
            detail=f.get("detail"),
            error=f.get("error"),
        )


@strawberry.type(description="A Lengo payment for one Saleor transaction.")
class Payment:
    id: strawberry.ID
    pay_id: str | None
    state: PaymentState
    refund_status: RefundStatus | None = strawberry.field(
        description="Partly refunded or refunded: what the merchant reads instead of the state once money went back."
    )
    lengo_status: str | None
    amount: str
    currency: str
    confirmed_amount: str | None
    refunded_amount: str
    gateway: str | None = strawberry.field(
        description="What the shopper paid with, as Lengo reported it; none unless Lengo said the payment went through."
    )
    environment: str
    is_test_money: bool
    channel_id: str | None
    channel_slug: str | None
    source_type: str | None
    source_id: str | None = strawberry.field(description="The Saleor checkout or order id.")
    saleor_transaction_id: str
    payment_url: str | None
    failure_reason: str | None
    configuration_id: strawberry.ID
    configuration_name: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    last_status_at: datetime | None
    model: strawberry.Private[PaymentModel]

    @classmethod
    def of(cls, p: PaymentModel, configuration_name: str | None = None) -> Payment:
        return cls(
            id=strawberry.ID(p.id),
            pay_id=p.pay_id,
            state=PaymentState(p.state.value),
            refund_status=refund_status(p),
            lengo_status=p.lengo_status,
            amount=format(p.amount, "f"),
            currency=p.currency,
            confirmed_amount=_money(p.confirmed_amount),
            refunded_amount=format(p.refunded_amount, "f"),
            gateway=p.gateway if p.state in _PAID_BY_LENGO else None,
            environment=p.environment,
            is_test_money=p.is_test_money,
            channel_id=p.channel_id,
            channel_slug=p.channel_slug,
            source_type=p.source_type,
            source_id=p.source_id,
            saleor_transaction_id=p.saleor_transaction_id,
            payment_url=p.payment_url,
            failure_reason=p.failure_reason,
            configuration_id=strawberry.ID(str(p.configuration_id)),
            configuration_name=configuration_name,
            created_at=datetime.fromtimestamp(p.created_at, UTC),
            updated_at=datetime.fromtimestamp(p.updated_at, UTC),
            expires_at=datetime.fromtimestamp(p.expires_at, UTC),
            last_status_at=_time(p.last_status_at),
            model=p,
        )

    @strawberry.field(
        description="Charged and neither refunded nor held by a refund payout still in progress; 0 unless paid."
    )
    async def refundable_amount(self, info: Info[ApiContext, None]) -> str:
        return format(await refund_resolvers.refundable_now(info.context, self.model), "f")

    @strawberry.field(description="Its Saleor order or checkout and the customer's masked e-mail; none before the charge.")
    async def order(self, info: Info[ApiContext, None]) -> PaymentOrder | None:
        link = await payment_resolvers.order_link(info.context, str(self.id))
        return PaymentOrder.of(link) if link else None

    @strawberry.field(description="Everything that happened to this payment, oldest first.")
    async def timeline(self, info: Info[ApiContext, None]) -> list[TimelineEntry]:
        _payment, entries = await timeline_resolvers.timeline(info.context, str(self.id))
        return [TimelineEntry.of(e) for e in entries]


@strawberry.type(description="The Saleor order (or checkout) a payment paid for, learnt from Saleor after the charge.")
class PaymentOrder:
    order_id: str | None = strawberry.field(description="The order's id: the Dashboard opens it at /orders/<id>.")
    order_number: str | None
    checkout_id: str | None = strawberry.field(description="The checkout, until (or if never) an order was placed.")
    customer_email: str | None = strawberry.field(description="Masked (a•••@example.com): never in clear.")
    settled: bool = strawberry.field(
        description="False while the app still waits for the order (for up to a day after the charge)."
    )

    @classmethod
    def of(cls, link: OrderLink) -> PaymentOrder:
        return cls(
            order_id=link.order_id, order_number=link.order_number, checkout_id=link.checkout_id,
            customer_email=link.customer_email, settled=link.settled,
        )


@strawberry.type
class PaymentConnection:
    items: list[Payment]
    total_count: int
    end_cursor: str | None
    has_next_page: bool


@strawberry.type(description="An event for Saleor, waiting in or gone through the outbox.")
class OutboxEvent:
    id: strawberry.ID
    payment_id: strawberry.ID | None
    saleor_transaction_id: str
    event_type: str
    psp_reference: str
    amount: str
    currency: str
    message: str
    state: str
    attempts: int
    last_error: str | None
    cause: str = strawberry.field(
        description="Why Saleor did not accept it: PERMISSION, TRANSACTION_NOT_FOUND, REJECTED, NOT_INSTALLED, "
        "SECRET_KEY or UNKNOWN."
    )
    will_fail_again: bool = strawberry.field(description="Whether sending it again, as it is, meets the same refusal.")
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, r: Any) -> OutboxEvent:
        cause = cause_of(r.last_error) if r.state == "dead" else None
        return cls(
            id=strawberry.ID(str(r.id)),
            payment_id=strawberry.ID(r.payment_id) if r.payment_id else None,
            saleor_transaction_id=r.saleor_transaction_id,
            event_type=r.event_type,
            psp_reference=r.psp_reference,
            amount=format(Decimal(r.amount), "f"),
            currency=r.currency,
            message=r.message,
            state=r.state,
            attempts=r.attempts,
            last_error=r.last_error,
            cause=cause.value if cause else "",
            will_fail_again=bool(cause and fails_again(cause)),
            created_at=datetime.fromtimestamp(r.created_at, UTC),
            next_attempt_at=datetime.fromtimestamp(r.next_attempt_at, UTC),
            delivered_at=_time(r.delivered_at),
        )


@strawberry.type(description="Is money flowing, and reaching Saleor?")
class Health:
    last_callback_at: datetime | None
    open_payments: int
    pending_events: int
    dead_events: int
    relay_lag_seconds: float | None = strawberry.field(description="Age of the oldest event not yet delivered.")
    checked_at: datetime


# --- Inputs ------------------------------------------------------------------


@strawberry.input
class ConfigurationInput:
    name: str
    website_id: str
    license_key: str | None = strawberry.field(default=None, description="Null on update keeps the stored key.")
    environment: str = "production"
    lengo_url: str | None = None
    currencies: list[str] = strawberry.field(default_factory=lambda: ["GNF"])
    min_amount: str | None = None
    max_amount: str | None = None
    return_url_patterns: list[str] = strawberry.field(default_factory=list)
    default_return_url: str | None = None
    payout_mode: str = "off"
    payout_daily_limit: str | None = None
    language: str = "en"

    def to_domain(self) -> config_store.ConfigurationInput:
        return config_store.ConfigurationInput(
            name=self.name,
            website_id=self.website_id,
            license_key=self.license_key if self.license_key else None,
            environment=self.environment,
            lengo_url=self.lengo_url or None,
            currencies=tuple(self.currencies),
            min_amount=self.min_amount,
            max_amount=self.max_amount,
            return_url_patterns=tuple(p for p in self.return_url_patterns if p.strip()),
            default_return_url=self.default_return_url or None,
            payout_mode=self.payout_mode,
            payout_daily_limit=self.payout_daily_limit or None,
            language=self.language,
        )


_REQUIRED_CHANGES = ("name", "website_id", "environment", "currencies")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@strawberry.input(
    description="What to change in a configuration: an omitted field stays as it is; null clears an optional one."
)
class ConfigurationChanges:
    name: str | None = strawberry.UNSET
    website_id: str | None = strawberry.UNSET
    license_key: str | None = strawberry.field(default=strawberry.UNSET, description="Omitted, null or empty keeps the stored key.")
    environment: str | None = strawberry.UNSET
    lengo_url: str | None = strawberry.field(default=strawberry.UNSET, description="Null: the environment's own address.")
    currencies: list[str] | None = strawberry.UNSET
    min_amount: str | None = strawberry.UNSET
    max_amount: str | None = strawberry.UNSET
    return_url_patterns: list[str] | None = strawberry.UNSET
    default_return_url: str | None = strawberry.UNSET
    payout_mode: str | None = strawberry.UNSET
    payout_daily_limit: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET

    def merged(self, current: config_store.Configuration) -> config_store.ConfigurationInput:
        """The whole input a save needs: these changes over what `current` holds."""
        for name in _REQUIRED_CHANGES:
            if getattr(self, name) is None:
                raise config_store.ConfigurationError(f"{name} cannot be null", field=_camel(name), code="REQUIRED")

        def pick(value: Any, kept: Any) -> Any:
            return kept if value is strawberry.UNSET else value

        environment = pick(self.environment, current.environment)
        if self.lengo_url is strawberry.UNSET:
            # A new environment alone means its own address; otherwise the stored one stays.
            same = self.environment is strawberry.UNSET or self.environment == current.environment
            lengo_url = current.lengo_url if same else None
        else:
            lengo_url = self.lengo_url or None
        min_amount = pick(self.min_amount, None if current.min_amount is None else format(current.min_amount, "f"))
        max_amount = pick(self.max_amount, None if current.max_amount is None else format(current.max_amount, "f"))
        patterns = pick(self.return_url_patterns, current.return_url_patterns) or ()
        return config_store.ConfigurationInput(
            name=pick(self.name, current.name),
            website_id=pick(self.website_id, current.website_id),
            license_key=None if self.license_key is strawberry.UNSET else (self.license_key or None),  # the key cannot be cleared
            environment=environment,
            lengo_url=lengo_url,
            currencies=tuple(pick(self.currencies, current.currencies)),
            min_amount=min_amount,
            max_amount=max_amount,
            return_url_patterns=tuple(p for p in patterns if p.strip()),
            default_return_url=pick(self.default_return_url, current.default_return_url) or None,
            payout_mode=pick(self.payout_mode, current.payout_mode) or "off",
            payout_daily_limit=pick(
                self.payout_daily_limit,
                None if current.payout_daily_limit is None else format(current.payout_daily_limit, "f"),
            ),
            language=pick(self.language, current.language) or "en",
        )


@strawberry.input
class PaymentFilter:
    states: list[PaymentState] | None = None
    channel: str | None = strawberry.field(default=None, description="A channel id or slug.")
    created_from: datetime | None = None
    created_to: datetime | None = None
    search: str | None = strawberry.field(
        default=None,
        description=(
            "A Lengo pay_id, a Saleor transaction id, a checkout or order id, an order number (with or without #), "
            "the customer's exact e-mail (any case), or a payment id."
        ),
    )

    def to_domain(self) -> payment_resolvers.PaymentFilter:
        return payment_resolvers.PaymentFilter(
            states=tuple(State(s.value) for s in self.states or ()),
            channel=self.channel,
            created_from=self.created_from,
            created_to=self.created_to,
            search=self.search,
        )
