"""A payment: one Lengo payment for one Saleor transaction, and its state machine."""
