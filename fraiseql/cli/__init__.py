"""The ``fraiseql`` command: one module per subcommand, wired together in ``main.py``."""
