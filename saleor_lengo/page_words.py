"""Where things are in the app's Dashboard page, in the words messages shown to merchants use.

Texts written into Saleor (transaction event messages, refusals) send the
merchant to the page, never to a command line or an internal id; these
names match the page's English labels (static/app/i18n.js).
"""

from __future__ import annotations

from typing import Final

APP_PAGE: Final = "Extensions → Lengo Pay"
ACCOUNT_SETTINGS: Final = f"{APP_PAGE} → Lengo account"
ACCOUNT_CHANGE: Final = f"{ACCOUNT_SETTINGS} → Change"
RECORD_REFUND: Final = "“Record a refund made by hand”"
