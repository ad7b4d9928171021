"""Reads of the roster import: the imports a user may follow."""

from __future__ import annotations
