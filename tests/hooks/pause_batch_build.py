"""The batch-build job commits its batch, then waits a minute before the job is marked finished, so the
test can kill the worker between the two and prove the job sent again finishes exactly once."""

from disbursements.services import batches
from tests.hooks import pause_after

pause_after(batches, "batch_build_job_run")
