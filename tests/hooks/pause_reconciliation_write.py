"""The reconciliation writes its run and findings, then holds the transaction open for a minute before
it commits, so the test can kill the worker mid-write and prove nothing half-written is left."""

from audits.reconciliation import services
from tests.hooks import pause_after

pause_after(services, "_write_findings")
