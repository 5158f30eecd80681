"""The workflow's plumbing: config validation against the schema, code hashes, job logs, threads, job resources and
the path patterns. Torch-free, so Snakemake can import it while it parses.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
