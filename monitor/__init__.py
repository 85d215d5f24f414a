"""The daemon and the CLI: config, fetch, parse, pipeline, schedule, deliver.

The imperative shell: it wires `rules` (pure) and `storage` (SQLite) together.
"""
