"""The app's GraphQL schema: queries and mutations over the resolvers, and how a request runs.

Imported on the first `/graphql` request only (strawberry is slow to
import). Errors worth showing are `ApiError`s, answered with their message
and `extensions.code`; anything else is logged and answered as an internal
error, so a stack trace or a secret never reaches the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError, OperationType, parse
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import Info

from saleor_lengo.app_api import documents
from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.app_api.resolvers import channels as channel_resolvers
from saleor_lengo.app_api.resolvers import configurations as config_resolvers
from saleor_lengo.app_api.resolvers import health as health_resolvers
from saleor_lengo.app_api.resolvers import outbox as outbox_resolvers
from saleor_lengo.app_api.resolvers import payments as payment_resolvers
from saleor_lengo.app_api.resolvers import recheck as recheck_resolvers
from saleor_lengo.app_api.resolvers import refunds as refund_resolvers
from saleor_lengo.app_api.resolvers import review as review_resolvers
from saleor_lengo.app_api.types import (
    Channel,
    Configuration,
    ConfigurationChanges,
    ConfigurationInput,
    Health,
    OutboxEvent,
    Payment,
    PaymentConnection,
    PaymentFilter,
    Viewer,
    _time,
)
from saleor_lengo.logs import get_logger

log = get_logger(__name__)

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15


def _ctx(info: Info[ApiContext, None]) -> ApiContext:
    return info.context


def _writer(info: Info[ApiContext, None]) -> ApiContext:
    ctx = info.context
    if not ctx.user.can_write:
        raise ApiError("Changing the Lengo settings needs the MANAGE_APPS and HANDLE_PAYMENTS permissions.", "PERMISSION_DENIED")
    return ctx


# Integer primary keys are 32-bit on PostgreSQL: a larger id is no row, not a database error.
MAX_ROW_ID = 2**31 - 1


def _int_id(value: strawberry.ID, what: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ApiError(f"No such {what}.", "NOT_FOUND") from None
    if not 0 < number <= MAX_ROW_ID:
        raise ApiError(f"No such {what}.", "NOT_FOUND")
    return number


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

    @strawberry.mutation(
        description="Changes only the fields given (null clears an optional one); checks the credentials "
        "with Lengo's balance endpoint first, unless skipCheck."
    )
    async def update_configuration(
        self, info: Info[ApiContext, None], id: strawberry.ID, changes: ConfigurationChanges, skip_check: bool = False
    ) -> Configuration:
        saved = await config_resolvers.update_configuration(
            _writer(info), _int_id(id, "configuration"), changes.merged, skip_check=skip_check
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

    @strawberry.mutation(description="Sends every dead event to Saleor again, now; answers how many.")
    async def retry_all_outbox_events(self, info: Info[ApiContext, None]) -> int:
        return await outbox_resolvers.retry_all(_writer(info))

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

    @strawberry.mutation(
        description=(
            "Settles a payment held in NEEDS_REVIEW, after checking it on the Lengo portal: chargedAmount reports "
            "a CHARGE_SUCCESS of that amount to Saleor, notCharged closes it and reports nothing. The note is kept "
            "in its history. Needs MANAGE_APPS and HANDLE_PAYMENTS."
        )
    )
    async def resolve_payment(
        self,
        info: Info[ApiContext, None],
        id: strawberry.ID,
        note: str,
        charged_amount: str | None = None,
        not_charged: bool = False,
    ) -> Payment:
        ctx = _writer(info)
        resolved = await review_resolvers.resolve_payment(
            ctx, str(id), charged_amount=charged_amount, not_charged=not_charged, note=note
        )
        return Payment.of(resolved, await payment_resolvers.configuration_name(ctx, resolved.configuration_id))


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
        if original.field:
            body["extensions"]["field"] = original.field
    elif original is None or isinstance(original, GraphQLError):
        # graphql-core's own refusals (a variable of the wrong type) come wrapped in another GraphQLError.
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


def _refused(message: str) -> Answer:
    return Answer({"data": None, "errors": [{"message": message, "extensions": {"code": "GRAPHQL_ERROR"}}]}, 400)


async def execute(
    ctx: ApiContext, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> Answer:
    problem = documents.refusal(query, MAX_TOKENS)
    if problem:
        return _refused(problem)
    try:
        result = await schema().execute(
            query, variable_values=variables, context_value=ctx, operation_name=operation_name
        )
    except CannotGetOperationTypeError as exc:  # no operation of that name: strawberry raises it
        return _refused(exc.as_http_error_reason())
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_format(e) for e in result.errors]
    # A document that never ran (syntax, validation, limits: errors without a
    # path) is the client's fault; a resolver's refusal is an answer.
    never_ran = result.data is None and bool(result.errors) and not any(e.path for e in result.errors or ())
    return Answer(body, 400 if never_ran else 200)
