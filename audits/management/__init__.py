"""The registry and reconciliation commands (their shared options: schools.management)."""
