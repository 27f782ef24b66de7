"""Root conftest: shared fixtures live in tests/plugins/<area>.py, one module per area."""

pytest_plugins = ["tests.plugins.base", "tests.plugins.demo", "tests.plugins.media",
                  "tests.plugins.downloads",
                  "tests.plugins.tiktok",
                  "tests.plugins.batch",
                  "tests.plugins.reliability",
                  "tests.plugins.ui"]
