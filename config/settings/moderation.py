"""Moderation: the image classifier (moderation.classifier) and strikes. Part of base.py, which
star-imports it."""

import environ

env = environ.Env()

# NudeNet's detector runs in the worker on every output, init image and mask. An image is held
# for review when a class scores at or above its threshold here; classes not listed are
# ignored. The detector knows 18 classes: *_EXPOSED and *_COVERED for FEMALE_BREAST,
# FEMALE_GENITALIA, BUTTOCKS, ANUS, FEET, BELLY, ARMPITS, plus MALE_BREAST_EXPOSED,
# MALE_GENITALIA_EXPOSED, FACE_FEMALE and FACE_MALE. It reports nothing under 0.25, so a
# threshold below that acts as 0.25. Override as CLASS=score,CLASS=score (replaces the whole
# dict). An unknown class name holds every image (classifier_error), so a typo cannot pass one.
MODERATION_CLASSIFIER_THRESHOLDS = {
    name: float(score)
    for name, score in env.dict(
        "MODERATION_CLASSIFIER_THRESHOLDS",
        default={
            "FEMALE_BREAST_EXPOSED": 0.45,
            "FEMALE_GENITALIA_EXPOSED": 0.4,
            "MALE_GENITALIA_EXPOSED": 0.4,
            "BUTTOCKS_EXPOSED": 0.5,
            "ANUS_EXPOSED": 0.4,
        },
    ).items()
}
# Strikes: a rejected picture, or a prompt blocked in one of these categories, counts one;
# this many since the last lifted suspension suspend the account from generating and training.
MODERATION_STRIKE_LIMIT = env.int("MODERATION_STRIKE_LIMIT", default=3)
MODERATION_STRIKE_CATEGORIES = env.list(
    "MODERATION_STRIKE_CATEGORIES", default=["minors", "sexual", "violence", "hate", "self_harm"]
)
# A run that takes longer holds the image (classifier_timeout); about 0.1 s is typical at 1024 px.
MODERATION_CLASSIFIER_TIMEOUT_SECONDS = env.float(
    "MODERATION_CLASSIFIER_TIMEOUT_SECONDS", default=10.0
)
# A scan that timed out or failed (a busy worker, not the picture) is tried again this long
# after, then twice as long..., up to MODERATION_SCAN_ATTEMPTS scans in all, before the picture
# is left to a moderator.
MODERATION_RESCAN_AFTER_SECONDS = env.float("MODERATION_RESCAN_AFTER_SECONDS", default=30.0)
MODERATION_SCAN_ATTEMPTS = env.int("MODERATION_SCAN_ATTEMPTS", default=3)
