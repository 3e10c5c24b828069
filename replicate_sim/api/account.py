"""The account endpoints: who the token belongs to, the hardware list, the webhook secret."""

from __future__ import annotations

from .. import catalog
from ..server import Request, Response, Router
from .base import Endpoints


class AccountEndpoints(Endpoints):
    def register(self, router: Router) -> None:
        router.add("GET", "/v1/account", self.account)
        router.add("GET", "/v1/hardware", self.hardware)
        router.add("GET", "/v1/webhooks/default/secret", self.webhook_secret)

    def account(self, request: Request) -> Response:
        owner = self.sim.settings.owner
        return Response.json(
            {"type": "user", "username": owner, "name": owner.title(), "github_url": None}
        )

    def hardware(self, request: Request) -> Response:
        return Response.json(catalog.HARDWARE)

    def webhook_secret(self, request: Request) -> Response:
        return Response.json({"key": self.sim.settings.webhook_secret})
