"""A Replicate-compatible API simulator for offline development and tests.

Start it with ``python -m replicate_sim --port 8010`` and point the real ``replicate`` client at it
(``replicate.Client(api_token=..., base_url="http://127.0.0.1:8010")``). It imitates the parts of
the HTTP API this project uses: files, models and versions, LoRA trainings with
``ostris/flux-dev-lora-trainer``, predictions on trained versions and on the official FLUX models,
signed webhooks, output expiry, and fault injection. See ``replicate_sim/README.md`` for every
flag, environment variable and admin endpoint.
"""

__version__ = "1.0.0"
