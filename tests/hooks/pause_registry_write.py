"""A department's list is written (its snapshot and entries), then the import's one transaction is held
open for a minute before it commits, so the test can kill the worker mid-write."""

from audits.registry.services import entries
from tests.hooks import pause_after

pause_after(entries.EntryWriter, "close")
