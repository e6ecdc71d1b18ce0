"""Suite-wide plugins. ``pytest_plugins`` is only allowed in the rootdir-level conftest
(pytest refuses it in tests/plugin/conftest.py when the whole suite runs)."""

pytest_plugins = ["pytester"]
