"""Payments of the caller's installation: a filtered, keyset-paged list, and one payment."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.db.schema import configurations, payments
from saleor_lengo.flows import order_search
from saleor_lengo.payments.model import Payment, State

MAX_PAGE = 100


@dataclass(frozen=True)
class PaymentFilter:
    states: tuple[State, ...] = ()
    channel: str | None = None  # a channel id or slug
    created_from: datetime | None = None
    created_to: datetime | None = None
    # pay_id, Saleor transaction id, order id or number, checkout id, the customer's exact e-mail, or our id
    search: str | None = None


@dataclass(frozen=True)
class PaymentPage:
    items: list[tuple[Payment, str | None]]  # with the configuration's name
    total_count: int
    end_cursor: str | None
    has_next_page: bool


def _cursor(payment: Payment) -> str:
    return base64.urlsafe_b64encode(f"{payment.created_at!r}|{payment.id}".encode()).decode()


def _parse_cursor(cursor: str) -> tuple[float, str]:
    try:
        created, _, pid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return float(created), pid
    except (ValueError, UnicodeDecodeError):
        raise ApiError("Invalid cursor.") from None


def _conditions(ctx: ApiContext, f: PaymentFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [payments.c.installation_id == ctx.installation_id]
    if f.states:
        where.append(payments.c.state.in_([s.value for s in f.states]))
    if f.channel:
        where.append(or_(payments.c.channel_id == f.channel, payments.c.channel_slug == f.channel))
    if f.created_from:
        where.append(payments.c.created_at >= f.created_from.timestamp())
    if f.created_to:
        where.append(payments.c.created_at < f.created_to.timestamp())
    term = (f.search or "").strip()
    if term:
        where.append(
            or_(
                payments.c.pay_id == term,
                payments.c.saleor_transaction_id == term,
                payments.c.source_id == term,
                payments.c.id == term,
                payments.c.id.in_(order_search.matching(ctx.deps.cipher, term)),
            )
        )
    return where


async def list_payments(ctx: ApiContext, f: PaymentFilter, *, first: int, after: str | None) -> PaymentPage:
    if not 1 <= first <= MAX_PAGE:
        raise ApiError(f"first must be between 1 and {MAX_PAGE}.")
    where = _conditions(ctx, f)
    page_where = list(where)
    if after:
        created, pid = _parse_cursor(after)
        page_where.append(
            or_(payments.c.created_at < created, and_(payments.c.created_at == created, payments.c.id < pid))
        )
    query = (
        select(payments, configurations.c.name.label("configuration_name"))
        .join(configurations, configurations.c.id == payments.c.configuration_id)
        .where(*page_where)
        .order_by(payments.c.created_at.desc(), payments.c.id.desc())
        .limit(first + 1)
    )
    async with ctx.deps.db.read() as conn:
        rows = (await conn.execute(query)).all()
        total = (await conn.execute(select(func.count()).select_from(payments).where(*where))).scalar_one()
    items = [(Payment.from_row(r), r.configuration_name) for r in rows[:first]]
    return PaymentPage(
        items=items,
        total_count=int(total),
        end_cursor=_cursor(items[-1][0]) if items else None,
        has_next_page=len(rows) > first,
    )


async def get_payment(ctx: ApiContext, payment_id: str) -> Payment:
    """The payment, only if it belongs to the caller's installation (else 'not found', never another's)."""
    async with ctx.deps.db.read() as conn:
        row = (
            await conn.execute(
                select(payments).where(payments.c.id == payment_id, payments.c.installation_id == ctx.installation_id)
            )
        ).first()
    if row is None:
        raise ApiError("No such payment.", "NOT_FOUND")
    return Payment.from_row(row)


async def order_link(ctx: ApiContext, payment_id: str) -> order_search.OrderLink | None:
    async with ctx.deps.db.read() as conn:
        return await order_search.get(conn, payment_id)


async def configuration_name(ctx: ApiContext, config_id: int) -> str | None:
    async with ctx.deps.db.read() as conn:
        return (
            await conn.execute(
                select(configurations.c.name).where(
                    configurations.c.id == config_id, configurations.c.installation_id == ctx.installation_id
                )
            )
        ).scalar_one_or_none()
