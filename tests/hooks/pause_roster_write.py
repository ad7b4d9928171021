"""The roster import writes a chunk, then holds the chunk's transaction open for a minute before it
commits, so the test can kill the worker mid-write."""

from students.roster import services
from tests.hooks import pause_after

pause_after(services, "apply_chunk")
