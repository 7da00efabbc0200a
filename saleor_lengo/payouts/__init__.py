"""Refund payouts: a refund paid out of the merchant's Lengo balance to the payer's wallet (the core: no Saleor, no Lengo)."""
