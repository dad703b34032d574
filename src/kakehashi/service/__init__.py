"""The platform service: durable jobs over HTTP, workers, projects and tokens, metering.

Layers: ``api`` (FastAPI routes) → ``jobs``/``lease``/``tenancy``/``metering`` (state machines and
queries over ``store``) → ``worker`` (claims jobs, runs ``runner`` children that call
:func:`kakehashi.solve`). ``serve`` starts the API and local workers; ``config`` holds the
operator's settings. Requires the ``service`` extra.
"""
