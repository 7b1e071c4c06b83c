"""The entry points: the pipeline that chains the stages, the CLI, the sweep, the docs generator."""
