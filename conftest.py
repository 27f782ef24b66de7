"""Root conftest: shared fixtures live in tests/plugins/<area>.py, one module per area."""

pytest_plugins = ["tests.plugins.base"]
