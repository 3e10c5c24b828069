"""The embedded mode `make run` starts: everything local, no external service needed."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
