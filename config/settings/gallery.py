"""Gallery: the starter pack a new model makes (star-imported through trainings.py, because
base.py is at its size cap)."""

import environ

env = environ.Env()

# When a training succeeds, one picture in each starter style is made with the new model and
# charged as usual (as many as the balance covers).
STARTER_PACK_ENABLED = env.bool("STARTER_PACK_ENABLED", default=True)
