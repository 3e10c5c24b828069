"""Trainings: what a run costs, when it is polled, how long training photos are kept.

Part of base.py, which star-imports it.
"""

import environ

env = environ.Env()

# --- Trainings ------------------------------------------------------------------------------
# 1 credit is worth one US cent of GPU time. A run reserves its estimate and is refunded on failure.
TRAINING_CREDITS_PER_1000_STEPS = env.int("TRAINING_CREDITS_PER_1000_STEPS", default=200)
TRAINING_CREDITS_PER_GPU_SECOND = env.float("TRAINING_CREDITS_PER_GPU_SECOND", default=0.1528)
# A run with no news for this long is polled (a webhook may have been lost).
TRAINING_RECONCILE_AFTER_SECONDS = env.int("TRAINING_RECONCILE_AFTER_SECONDS", default=120)
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=60)
# Training photos are deleted this many days after the last training that used them ended
# (the model keeps working; a person can keep them longer, or delete them at once).
TRAINING_PHOTOS_KEEP_DAYS = env.int("TRAINING_PHOTOS_KEEP_DAYS", default=30)
SIGNED_IN_HOME_VIEW = "trainings.views.dashboard"  # `/` signed in (core.views.home)
from .gallery import *  # noqa: E402, F403 (starter pack: config/settings/gallery.py)
