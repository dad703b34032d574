"""The kakehashi SDK: ``Client`` (sync) and ``AsyncClient`` (asyncio) for the platform service.

::

    from kakehashi import Client
    client = Client("http://127.0.0.1:8000", token="kh_...")
    job = client.submit(problem, backend="auto", time_limit=5, idempotency_key="run-42")
    result = client.result(job.id)          # a kakehashi.result.Result, as from solve()

HTTP problem responses become the kakehashi error tree: 401 → AuthError, 404/409 → JobError,
402/429 → QuotaError, 413/415/422 → ModelError; a failed job raises its solver's error.
"""

from kakehashi.client._common import Job
from kakehashi.client.async_ import AsyncClient
from kakehashi.client.sync import Client

__all__ = ["AsyncClient", "Client", "Job"]
