"""Throughput of the generation path (issue 15): how a finished generation's outputs are fetched."""

import environ

env = environ.Env()

# Outputs of one generation are downloaded at the same time by this many threads of the worker
# (then processed one after another as they arrive).
GENERATION_OUTPUT_THREADS = env.int("GENERATION_OUTPUT_THREADS", default=4)
