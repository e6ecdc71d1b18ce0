"""pytest plugin for pyagent-trace: cassettes, cost budgets, span assertions and snapshots."""
