"""Suite-wide plugins. ``pytest_plugins`` is only allowed in the rootdir-level conftest
(pytest refuses it in tests/plugin/conftest.py when the whole suite runs)."""

import os

pytest_plugins = ["pytester"]

# Pricing imports genai-prices, whose module-level pydantic schemas make pydantic load its
# plugins: logfire's (a dev dependency) costs ~0.5 s of CPU in every inner pytest session that
# prices a call. A user of ours would not have it loaded by us (inner sessions already run with
# -p no:logfire for the same reason); subprocesses inherit this.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "logfire-plugin")

# litellm, when some test imports it in this process, fetches its price map in a background
# thread and logs each failed retry to sys.stderr for the rest of the run. The field projects
# drop this (tests/field/field_project.py): the framework suite runs litellm with its defaults.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
