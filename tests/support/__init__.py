"""Plain helpers that test modules import: data, builders, scripted engines. No fixtures and no
tests live here (fixtures are in tests/conftest.py and the tests/fixtures plugins), so no test
module ever imports another."""
