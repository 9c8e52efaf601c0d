"""Helpers shared by test modules (builders, recorded-HTTP replay, the loopback canary);
fixtures live in the `conftest.py` files, never here."""
