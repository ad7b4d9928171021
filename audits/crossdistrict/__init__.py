"""跨区县重复资助: the platform's matching of pupils across districts (docs/architecture.md)."""
