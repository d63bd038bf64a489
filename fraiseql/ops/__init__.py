"""Operations: database plumbing for the CLI and tests, secrets, backup, metrics, health."""
