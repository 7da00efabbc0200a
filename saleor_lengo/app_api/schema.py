"""The app's GraphQL schema: strawberry types over the resolvers.

Imported on the first `/graphql` request only (strawberry is slow to
import). Money is an exact decimal string, times are UTC ISO 8601.
Errors worth showing are `ApiError`s, answered with their message and
`extensions.code`; anything else is logged and answered as an internal
error, so a stack trace or a secret never reaches the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError, OperationType, parse
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import Info

from saleor_lengo import configurations as config_store
from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.app_api.resolvers import channels as channel_resolvers
from saleor_lengo.app_api.resolvers import configurations as config_resolvers
from saleor_lengo.app_api.resolvers import health as health_resolvers
from saleor_lengo.app_api.resolvers import outbox as outbox_resolvers
from saleor_lengo.app_api.resolvers import payments as payment_resolvers
from saleor_lengo.app_api.resolvers import recheck as recheck_resolvers
from saleor_lengo.app_api.resolvers import refunds as refund_resolvers
from saleor_lengo.app_api.resolvers import timeline as timeline_resolvers
from saleor_lengo.logs import get_logger
from saleor_lengo.payments.model import Payment as PaymentModel
from saleor_lengo.payments.model import State

log = get_logger(__name__)

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15


def _money(value: Decimal | str | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value), "f")


def _time(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _ctx(info: Info[ApiContext, None]) -> ApiContext:
    return info.context


def _writer(info: Info[ApiContext, None]) -> ApiContext:
    ctx = info.context
    if not ctx.user.can_write:
        raise ApiError("Changing the Lengo settings needs the MANAGE_APPS and HANDLE_PAYMENTS permissions.", "PERMISSION_DENIED")
    return ctx


def _int_id(value: strawberry.ID, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ApiError(f"No such {what}.", "NOT_FOUND") from None


# --- Types -------------------------------------------------------------------


@strawberry.enum(description="Where a payment is in its life.")
class PaymentState(Enum):
    CREATING = "creating"
    ACTION_REQUIRED = "action_required"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


@strawberry.enum(description="What a timeline entry records.")
class TimelineKind(Enum):
    CREATED = "CREATED"
    LENGO_REQUEST = "LENGO_REQUEST"
    CALLBACK = "CALLBACK"
    STATUS_CHECK = "STATUS_CHECK"
    TRANSITION = "TRANSITION"
    EVENT = "EVENT"
    ACTION_REQUEST = "ACTION_REQUEST"


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
    lengo_status: str | None
    amount: str
    currency: str
    confirmed_amount: str | None
    refunded_amount: str
    refundable_amount: str = strawberry.field(description="Charged and not yet refunded; 0 unless paid.")
    gateway: str | None
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

    @classmethod
    def of(cls, p: PaymentModel, configuration_name: str | None = None) -> Payment:
        return cls(
            id=strawberry.ID(p.id),
            pay_id=p.pay_id,
            state=PaymentState(p.state.value),
            lengo_status=p.lengo_status,
            amount=format(p.amount, "f"),
            currency=p.currency,
            confirmed_amount=_money(p.confirmed_amount),
            refunded_amount=format(p.refunded_amount, "f"),
            refundable_amount=format(refund_resolvers.refundable(p), "f"),
            gateway=p.gateway,
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
        )

    @strawberry.field(description="Everything that happened to this payment, oldest first.")
    async def timeline(self, info: Info[ApiContext, None]) -> list[TimelineEntry]:
        _payment, entries = await timeline_resolvers.timeline(_ctx(info), str(self.id))
        return [TimelineEntry.of(e) for e in entries]


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
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, r: Any) -> OutboxEvent:
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
        )


@strawberry.input
class PaymentFilter:
    states: list[PaymentState] | None = None
    channel: str | None = strawberry.field(default=None, description="A channel id or slug.")
    created_from: datetime | None = None
    created_to: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="A Lengo pay_id, a Saleor transaction id, a checkout or order id, or a payment id."
    )

    def to_domain(self) -> payment_resolvers.PaymentFilter:
        return payment_resolvers.PaymentFilter(
            states=tuple(State(s.value) for s in self.states or ()),
            channel=self.channel,
            created_from=self.created_from,
            created_to=self.created_to,
            search=self.search,
        )


# --- Root types ----------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: Info[ApiContext, None]) -> Viewer:
        user = _ctx(info).user
        return Viewer(email=user.email, can_write=user.can_write, saleor_api_url=user.installation.saleor_api_url)

    @strawberry.field
    async def configurations(self, info: Info[ApiContext, None]) -> list[Configuration]:
        return [Configuration.of(c) for c in await config_resolvers.list_configurations(_ctx(info))]

    @strawberry.field(description="Saleor's channels, fetched with the app's token, with their mapping.")
    async def channels(self, info: Info[ApiContext, None]) -> list[Channel]:
        return [
            Channel(
                id=strawberry.ID(c.id),
                slug=c.slug,
                name=c.name,
                currency=c.currency,
                configuration=Configuration.of(c.configuration) if c.configuration else None,
                mapped_as=c.mapped_as,
            )
            for c in await channel_resolvers.list_channels(_ctx(info))
        ]

    @strawberry.field(description="Newest first.")
    async def payments(
        self,
        info: Info[ApiContext, None],
        filter: PaymentFilter | None = None,
        first: int = 25,
        after: str | None = None,
    ) -> PaymentConnection:
        page = await payment_resolvers.list_payments(
            _ctx(info), (filter or PaymentFilter()).to_domain(), first=first, after=after
        )
        return PaymentConnection(
            items=[Payment.of(p, name) for p, name in page.items],
            total_count=page.total_count,
            end_cursor=page.end_cursor,
            has_next_page=page.has_next_page,
        )

    @strawberry.field
    async def payment(self, info: Info[ApiContext, None], id: strawberry.ID) -> Payment | None:
        try:
            found = await payment_resolvers.get_payment(_ctx(info), str(id))
        except ApiError as exc:
            if exc.code == "NOT_FOUND":
                return None
            raise
        return Payment.of(found, await payment_resolvers.configuration_name(_ctx(info), found.configuration_id))

    @strawberry.field(description="Events Saleor never accepted, newest first.")
    async def dead_letters(self, info: Info[ApiContext, None], first: int = 50) -> list[OutboxEvent]:
        return [OutboxEvent.of(r) for r in await outbox_resolvers.dead_letters(_ctx(info), first)]

    @strawberry.field
    async def health(self, info: Info[ApiContext, None]) -> Health:
        h = await health_resolvers.health(_ctx(info))
        return Health(
            last_callback_at=_time(h.last_callback_at),
            open_payments=h.open_payments,
            pending_events=h.pending_events,
            dead_events=h.dead_events,
            relay_lag_seconds=h.relay_lag_seconds,
            checked_at=datetime.fromtimestamp(h.checked_at, UTC),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Checks the credentials with Lengo's balance endpoint first, unless skipCheck.")
    async def create_configuration(
        self, info: Info[ApiContext, None], input: ConfigurationInput, skip_check: bool = False
    ) -> Configuration:
        saved = await config_resolvers.save_configuration(
            _writer(info), input.to_domain(), config_id=None, skip_check=skip_check
        )
        return Configuration.of(saved)

    @strawberry.mutation(description="Checks the credentials with Lengo's balance endpoint first, unless skipCheck.")
    async def update_configuration(
        self, info: Info[ApiContext, None], id: strawberry.ID, input: ConfigurationInput, skip_check: bool = False
    ) -> Configuration:
        saved = await config_resolvers.save_configuration(
            _writer(info), input.to_domain(), config_id=_int_id(id, "configuration"), skip_check=skip_check
        )
        return Configuration.of(saved)

    @strawberry.mutation(description="Refused while payments refer to it.")
    async def delete_configuration(self, info: Info[ApiContext, None], id: strawberry.ID) -> strawberry.ID:
        await config_resolvers.delete_configuration(_writer(info), _int_id(id, "configuration"))
        return id

    @strawberry.mutation(description="Channel: its Saleor id (or slug). Replaces any earlier mapping of it.")
    async def map_channel(
        self, info: Info[ApiContext, None], channel: str, configuration_id: strawberry.ID
    ) -> list[Configuration]:
        ctx = _writer(info)
        await config_resolvers.map_channel(ctx, channel, _int_id(configuration_id, "configuration"))
        return [Configuration.of(c) for c in await config_resolvers.list_configurations(ctx)]

    @strawberry.mutation
    async def unmap_channel(self, info: Info[ApiContext, None], channel: str) -> list[Configuration]:
        ctx = _writer(info)
        if not await config_resolvers.unmap_channel(ctx, channel):
            raise ApiError("This channel is not mapped.", "NOT_FOUND")
        return [Configuration.of(c) for c in await config_resolvers.list_configurations(ctx)]

    @strawberry.mutation(description="Sends a dead event to Saleor again, now.")
    async def retry_outbox_event(self, info: Info[ApiContext, None], id: strawberry.ID) -> OutboxEvent:
        return OutboxEvent.of(await outbox_resolvers.retry(_writer(info), _int_id(id, "event")))

    @strawberry.mutation(description="Asks Lengo for the payment's status now and applies it.")
    async def recheck_payment(self, info: Info[ApiContext, None], id: strawberry.ID) -> Payment:
        return Payment.of(await recheck_resolvers.recheck_payment(_writer(info), str(id)))

    @strawberry.mutation(
        description="Records a refund staff made outside Lengo; reported to Saleor as REFUND_SUCCESS."
    )
    async def record_manual_refund(
        self, info: Info[ApiContext, None], payment_id: strawberry.ID, amount: str, note: str | None = None
    ) -> Payment:
        updated = await refund_resolvers.record_manual_refund(_writer(info), str(payment_id), amount, note)
        return Payment.of(updated)


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # `execute` below logs what deserves it; ApiErrors are answers, not faults.
        return None


@cache
def schema() -> strawberry.Schema:
    return _Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            # Factories: strawberry builds fresh extensions for every request.
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        ],
    )


def sdl() -> str:
    return schema().as_str() + "\n"


def is_mutation(query: str, operation_name: str | None) -> bool:
    """Whether the operation that would run is a mutation (False when the document is invalid)."""
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False
    for definition in document.definitions:
        operation = getattr(definition, "operation", None)
        if operation is None:
            continue
        name = definition.name.value if getattr(definition, "name", None) else None  # type: ignore[attr-defined]
        if operation_name is None or name == operation_name:
            return bool(operation == OperationType.MUTATION)
    return False


def _format(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    body: dict[str, Any] = {"message": error.message}
    if error.path:
        body["path"] = list(error.path)
    if isinstance(original, ApiError):
        body["message"] = original.message
        body["extensions"] = {"code": original.code}
    elif original is None:
        body["extensions"] = {"code": "GRAPHQL_ERROR"}
    else:
        log.error("app_api_resolver_failed", error=repr(original), path=list(error.path or ()), exc_info=original)
        body["message"] = "Internal error; it has been logged."
        body["extensions"] = {"code": "INTERNAL"}
    return body


@dataclass(frozen=True)
class Answer:
    body: dict[str, Any]
    status: int


async def execute(
    ctx: ApiContext, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> Answer:
    result = await schema().execute(
        query, variable_values=variables, context_value=ctx, operation_name=operation_name
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_format(e) for e in result.errors]
    # A document that never ran (syntax, validation, limits: errors without a
    # path) is the client's fault; a resolver's refusal is an answer.
    never_ran = result.data is None and bool(result.errors) and not any(e.path for e in result.errors or ())
    return Answer(body, 400 if never_ran else 200)
