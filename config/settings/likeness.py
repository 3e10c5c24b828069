"""Likeness (the `likeness` app): face identity computed locally with dlib. Part of base.py,
which star-imports it."""

import environ

env = environ.Env()

# The consent selfie before a model's first training (likeness.services). Off in the test
# settings, where most tests train without one; the selfie's own tests turn it on.
LIKENESS_SELFIE_REQUIRED = env.bool("LIKENESS_SELFIE_REQUIRED", default=True)
# Selfies in which no face is found are refused this many times, then sent to a moderator.
LIKENESS_SELFIE_NO_FACE_RETRIES = env.int("LIKENESS_SELFIE_NO_FACE_RETRIES", default=2)

# Consent selfies never used for a training (none started, or the one started was canceled) are
# deleted this many hours after they were taken (likeness.services.selfies_expire, hourly).
SELFIE_KEEP_HOURS = env.int("SELFIE_KEEP_HOURS", default=24)
