"""The `/v1` endpoints that the `replicate` client (1.0.7) calls, with the real API's rules.

One module per resource: `account` (the account, hardware, the webhook signing secret), `files`,
`models` (models and their versions), `predictions` and `trainings`. `base` holds what they share
(the model, version or job named in the path; reading, canceling and listing jobs),
`pagination` the cursor pages of lists, `parsing` the checks of bodies and headers that several
resources make. The simulator's routes outside `/v1` (delivery, status pages, `/_sim` admin) are
in `replicate_sim.app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..server import Router
from .account import AccountEndpoints
from .files import FileEndpoints
from .models import ModelEndpoints
from .predictions import PredictionEndpoints
from .trainings import TrainingEndpoints

if TYPE_CHECKING:
    # Only for annotations: the application imports this package to register the routes.
    from ..app import Simulator


def register_v1_routes(sim: Simulator, router: Router) -> None:
    """Add every `/v1` route to `router`."""
    for endpoints in (
        AccountEndpoints(sim),
        FileEndpoints(sim),
        ModelEndpoints(sim),
        TrainingEndpoints(sim),
        PredictionEndpoints(sim),
    ):
        endpoints.register(router)
