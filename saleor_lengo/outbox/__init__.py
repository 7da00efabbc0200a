"""Transactional outbox: what Saleor must learn is written with the state change, then relayed."""
