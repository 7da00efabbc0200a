"""The payment core: one Lengo payment for one Saleor transaction, its state machine, storage and history; it imports nothing above it (tests/test_import_graph.py)."""
