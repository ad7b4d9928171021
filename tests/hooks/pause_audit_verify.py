"""The auditor's verify job checks the chain, then waits a minute before it finishes, so the test can
kill the worker while the job runs."""

from audits import tasks
from tests.hooks import pause_after

pause_after(tasks, "verify_tenant_chain")
