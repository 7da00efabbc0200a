"""The whole schema, as SQLAlchemy Core tables.

Conventions, so SQLite and PostgreSQL behave the same:
- amounts are exact decimal strings (SQLite has no exact numeric type);
- times are UTC epoch seconds (floats): easy to compare and schedule on both;
- secrets are Fernet tokens (`*_enc`), never clear text.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# The APL: one row per Saleor instance that installed the app.
installations = Table(
    "installations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("saleor_api_url", String(2048), nullable=False, unique=True),
    Column("app_id", String(255), nullable=False),
    Column("token_enc", Text, nullable=False),
    Column("jwks", Text, nullable=False),
    Column("jwks_fetched_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # Saleor refused the token as invalid (the app was deleted there); None while installed.
    Column("removed_at", Float),
    # The token and Lengo license keys were erased, a grace period after removal.
    Column("erased_at", Float),
)

configurations = Table(
    "configurations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("installation_id", Integer, ForeignKey("installations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("website_id", String(255), nullable=False),
    Column("license_key_enc", Text, nullable=False),
    Column("license_key_last4", String(8), nullable=False),
    Column("environment", String(32), nullable=False),
    Column("lengo_url", String(2048), nullable=False),
    Column("currencies", Text, nullable=False),  # JSON list of ISO codes
    Column("min_amount", String(64)),
    Column("max_amount", String(64)),
    Column("return_url_patterns", Text, nullable=False),  # JSON list of regexes
    Column("default_return_url", String(2048)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # Refunds paid out to the payer's wallet: off | automatic | approval, and the most paid out over 24 h.
    Column("payout_mode", String(16), nullable=False, server_default="off"),
    Column("payout_daily_limit", String(64)),
    # The language of the messages the app writes into Saleor for this account's payments (en, fr).
    Column("language", String(8), nullable=False, server_default="en"),
    UniqueConstraint("installation_id", "name", name="uq_configurations_installation_name"),
)

channel_mappings = Table(
    "channel_mappings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("installation_id", Integer, ForeignKey("installations.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(255), nullable=False),  # Saleor channel id or slug
    Column("configuration_id", Integer, ForeignKey("configurations.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("installation_id", "channel", name="uq_channel_mappings_installation_channel"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("installation_id", Integer, ForeignKey("installations.id", ondelete="CASCADE"), nullable=False),
    Column("configuration_id", Integer, ForeignKey("configurations.id"), nullable=False),
    Column("saleor_transaction_id", String(255), nullable=False),
    Column("idempotency_key", String(512)),
    Column("callback_token_digest", String(64), nullable=False, unique=True),
    Column("state", String(32), nullable=False),
    Column("pay_id", String(512), index=True),
    Column("payment_url", String(2048)),
    Column("amount", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("confirmed_amount", String(64)),
    Column("lengo_status", String(64)),
    Column("gateway", String(128)),
    Column("environment", String(32), nullable=False),
    Column("channel_id", String(255)),
    Column("channel_slug", String(255)),
    Column("source_type", String(32)),
    Column("source_id", String(255)),
    Column("return_url", String(2048)),
    Column("action_type", String(32)),
    Column("failure_reason", Text),
    Column("failure_words", Text),  # failure_reason as saleor_lengo.words parts (JSON)
    Column("refunded_amount", String(64), nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("watch_until", Float, nullable=False),
    Column("next_check_at", Float, index=True),
    Column("check_attempts", Integer, nullable=False, server_default="0"),
    Column("last_status_at", Float),
    Column("lease_until", Float),
    # When the last status check for this payment's callbacks started (callbacks/gate.py).
    Column("callback_check_at", Float),
    # Callbacks received beyond the rows kept per payment, counted for the audit (callbacks/kept.py).
    Column("callbacks_not_kept", Integer, nullable=False, server_default="0"),
    # The reconciler holding the payment (a `lease_holders` id; db/leases.py).
    Column("lease_owner", String(64)),
    # The payer's number as Lengo's status gave it when it confirmed the payment paid
    # (never a callback's): the only place a refund payout may go.
    Column("payer_account_enc", Text),
    Column("payer_account_masked", String(32)),
    UniqueConstraint("installation_id", "saleor_transaction_id", name="uq_payments_installation_transaction"),
)

payment_transitions = Table(
    "payment_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", String(32), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("from_state", String(32)),
    Column("to_state", String(32), nullable=False),
    Column("reason", Text, nullable=False),
)

lengo_requests = Table(
    "lengo_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", String(32), ForeignKey("payments.id", ondelete="CASCADE"), index=True),
    Column("configuration_id", Integer),
    Column("operation", String(32), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("http_status", Integer),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text),
)

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", String(32), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("received_at", Float, nullable=False),
    Column("pay_id", String(512)),
    Column("status", String(64)),
    Column("amount", String(64)),
    Column("message", Text),
    Column("client_enc", Text),
    Column("client_masked", String(32)),
    Column("content_type", String(255)),
    Column("remote_addr", String(64)),
    # recorded → confirmed | ignored | mismatch ; waiting_pay_id while the create is unanswered
    Column("outcome", String(32), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, index=True),
    Column("processed_at", Float),
    Column("last_error", Text),
    # The process confirming it right now (db/leases.py).
    Column("lease_owner", String(64)),
    Column("lease_until", Float),
)

status_checks = Table(
    "status_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", String(32), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("checked_at", Float, nullable=False),
    Column("source", String(32), nullable=False),
    Column("lengo_status", String(64)),
    Column("amount", String(64)),
    Column("gateway", String(128)),
    Column("error", Text),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", String(32), ForeignKey("payments.id", ondelete="CASCADE"), index=True),
    Column("installation_id", Integer, ForeignKey("installations.id", ondelete="CASCADE"), nullable=False),
    Column("saleor_transaction_id", String(255), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("psp_reference", String(512), nullable=False),
    Column("amount", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("message", Text, nullable=False),
    # The message as saleor_lengo.words parts (JSON): the relay says it in the configuration's language.
    Column("words", Text),
    Column("external_url", String(2048)),
    Column("available_actions", Text, nullable=False),  # JSON list
    Column("event_time", Float, nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", Float),
    Column("last_error", Text),
    Column("already_processed", Boolean),
    Column("saleor_event_id", String(255)),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    # Its last attempt found Saleor unreachable: due again the moment Saleor answers (saleor/circuit.py).
    Column("waiting_for_saleor", Boolean),
    Index("ix_outbox_state_due", "state", "next_attempt_at"),
)

# The processes that may hold leases on outbox rows, callbacks and payments
# (db/leases.py): a lease whose holder is gone is free at once.
lease_holders = Table(
    "lease_holders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),  # hostname and boot id: where `pid` means something
    Column("pid", Integer, nullable=False),
    Column("pid_started", String(32)),  # the process's start time, so a reused pid is not taken for it
    Column("lock_key", Integer),  # PostgreSQL: the session advisory lock it holds while alive
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)

# A Saleor installation that a relay process finds unreachable right now
# (saleor/circuit.py): one row per process that sees it so.
saleor_circuits = Table(
    "saleor_circuits",
    metadata,
    Column("installation_id", Integer, ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True),
    Column("holder_id", String(64), primary_key=True),
    Column("opened_at", Float, nullable=False),
    Column("last_error", Text),
)

# Answers to Saleor's action requests, so a retried request gets the same answer.
action_answers = Table(
    "action_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("installation_id", Integer, ForeignKey("installations.id", ondelete="CASCADE"), nullable=False),
    Column("saleor_transaction_id", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("issued_at", String(64), nullable=False),
    Column("payment_id", String(32)),
    Column("psp_reference", String(512), nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint(
        "installation_id", "saleor_transaction_id", "action", "issued_at", name="uq_action_answers_request"
    ),
)

# Refunds paid out of the merchant's Lengo balance to the payer's wallet (a cash-in), one row
# per refund request (saleor_lengo/payouts/).
payouts = Table(
    "payouts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("payment_id", String(32), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("installation_id", Integer, ForeignKey("installations.id", ondelete="CASCADE"), nullable=False),
    Column("configuration_id", Integer, ForeignKey("configurations.id"), nullable=False),
    Column("saleor_transaction_id", String(255), nullable=False),
    # The refund's own pspReference in Saleor.
    Column("psp_reference", String(512), nullable=False, unique=True),
    # sha256 of (transaction id, the request's issuedAt, amount): one payout per refund request.
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("amount", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("type_account", String(16), nullable=False),
    Column("account_enc", Text, nullable=False),
    Column("account_masked", String(32), nullable=False),
    Column("account_digest", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    # "<configuration>:<account digest>" while a cash-in to that account may be on its way: one at a time.
    Column("in_flight", String(128), unique=True),
    # When the cash-in request started; set (and committed) before it is sent.
    Column("request_started_at", Float),
    # Lengo's pay_id of the cash-in: linked to one payout only.
    Column("cashin_pay_id", String(512), unique=True),
    Column("cashin_status", String(64)),
    Column("callback_token_digest", String(64), unique=True),
    Column("saleor_confirmed_at", Float),
    Column("failed_at", Float),
    # A failed payout's share of the ledger and of the daily limit is given back then.
    Column("released_at", Float),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_check_at", Float, index=True),
    Column("lease_owner", String(64)),
    Column("lease_until", Float),
    Column("reason", Text),
    Column("resolved_by", String(255)),
    Column("resolution_note", Text),
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
)

# The Saleor order (or checkout) a payment belongs to, learnt from Saleor once its charge was
# delivered (flows/order_links.py), and the customer's e-mail: encrypted, found by its keyed hash.
payment_orders = Table(
    "payment_orders",
    metadata,
    # `id` as every leased table has (db/leases.py); one row per payment.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", String(32), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("order_id", String(255), index=True),
    Column("order_number", String(64), index=True),
    Column("checkout_id", String(255), index=True),
    Column("email_enc", Text),
    Column("email_masked", String(320)),
    Column("email_hash", String(64), index=True),
    # When Saleor got the charge (its outbox row delivered): the order is looked for a day from then.
    Column("charged_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, index=True),
    # Set once the order is known, or the search given up (a day after the charge): never asked again.
    Column("done_at", Float),
    Column("last_error", Text),
    Column("lease_owner", String(64)),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
