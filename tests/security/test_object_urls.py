"""Every URL that takes an object's id, on the web and in the API, keeps the object to its owner.

The routes are read from the URL resolver, not listed by hand: for each one whose path takes an
id, the URL is built with the ids of objects an "owner" has, and every HTTP method the view
accepts is sent

- by a signed-in stranger: 404 (never 403 or 200: the object's existence is not told);
- by an anonymous caller: 401 in the API, a redirect to the sign-in page on the web;
- by the owner: anything but 404 (so the URL really names the owner's object and the 404s above
  mean something).

A route that takes an id nobody here knows how to make, and that is not in PUBLIC_ROUTES with
its reason, fails `test_every_route_that_takes_an_id_is_covered`: a new route is covered by
adding a builder to ID_BUILDERS (or its other path parts to ROUTE_EXTRAS), not by being missed.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import DataExport
from accounts.services import user_tokens_issue
from gallery.services import collection_create, collection_images_add, share_link_create
from likeness.models import IdentityCheck
from tests.billing.factories import make_purchase
from tests.events.factories import events_one_of_everything
from tests.gallery.factories import make_generation, make_image, picture, ready_lora_model
from trainings.models import Dataset, DatasetImage, TrainingRun

API_PREFIX = "api/v1/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# --- The owner's objects, and how each kind of id in a path is made ---------------------------


@dataclass
class World:
    dataset: Dataset
    dataset_image: DatasetImage
    lora_model: object
    run: TrainingRun
    generation: object
    image: object
    collection: object
    share_link: object
    export: DataExport
    event_endpoint: object
    event_delivery: object


def _image_id(world: World, kwargs: frozenset[str]):
    # `image_id` next to `dataset_id` is a dataset's photo; alone, a picture of the gallery.
    return world.dataset_image.id if "dataset_id" in kwargs else world.image.id


ID_BUILDERS: dict[str, Callable[[World, frozenset[str]], object]] = {
    "dataset_id": lambda world, kwargs: world.dataset.id,
    "image_id": _image_id,
    "model_id": lambda world, kwargs: world.lora_model.id,
    "run_id": lambda world, kwargs: world.run.id,
    "generation_id": lambda world, kwargs: world.generation.id,
    "collection_id": lambda world, kwargs: world.collection.id,
    "link_id": lambda world, kwargs: world.share_link.id,
    "export_id": lambda world, kwargs: world.export.id,
    # Events: an endpoint (webhook subscription) and one of its deliveries.
    "endpoint_id": lambda world, kwargs: world.event_endpoint.id,
    "delivery_id": lambda world, kwargs: world.event_delivery.id,
    # POST /api/v1/image/{model_name}: one of the caller's models, by name or id.
    "model_name": lambda world, kwargs: str(world.lora_model.id),
    # Billing: a purchase of a credit pack (its page after Stripe's checkout).
    "purchase_id": lambda world, kwargs: make_purchase(world.run.owner).id,
}

# Path parts of covered routes that are not ids, with a value under which the owner's object
# exists (so that the owner's request is not a 404 for another reason).
ROUTE_EXTRAS: dict[str, dict[str, str]] = {
    "gallery:generation_input": {"kind": "image"},
    "gallery:image_file": {"variant": "thumbnail"},
}


@dataclass(frozen=True)
class Allowed:
    reason: str
    match: Callable[[Route], bool] = field(repr=False)


PUBLIC_ROUTES: dict[str, Allowed] = {
    "gallery:shared": Allowed(
        "A share page: public by design, the signed token is the secret (tests/gallery/"
        "test_sharing.py checks revoked, expired and forged tokens).",
        lambda route: route.name == "gallery:shared",
    ),
    "gallery:shared_file": Allowed(
        "A picture of a share page: the image must belong to what the signed token shares "
        "(tests/gallery/test_sharing.py).",
        lambda route: route.name == "gallery:shared_file",
    ),
    "gallery:share-report": Allowed(
        "Reporting a picture of a share page: open to anyone holding the signed token, for the "
        "images it shares only (tests/gallery/test_review_pages.py).",
        lambda route: route.name == "gallery:share-report",
    ),
    "moderation": Allowed(
        "The moderators' pages and API: any image, for moderators only; owners, strangers and "
        "staff without the role get 404, anonymous callers 401/302 "
        "(tests/gallery/test_review_api.py, tests/gallery/test_review_pages.py).",
        lambda route: (route.name or "").startswith(("api:moderation-", "gallery:review-")),
    ),
    "identity checks": Allowed(
        "The moderators' identity checks: a held training's selfie and dataset photos, for "
        "moderators only; owners and strangers get 404 (tests/likeness/test_identity_review.py).",
        lambda route: (route.name or "").startswith("likeness:review"),
    ),
    "gallery:catalogue-image": Allowed(
        "Example pictures of the catalogue (style presets, style LoRAs): the platform's, shown "
        "to every signed-in person, owned by nobody.",
        lambda route: route.name == "gallery:catalogue-image",
    ),
    "admin": Allowed(
        "Django's admin: staff only, each page checked by model permissions "
        "(tests/accounts/test_admin_and_roles.py, tests/trainings/test_admin.py).",
        lambda route: route.namespace == "admin",
    ),
    "allauth": Allowed(
        "django-allauth's e-mail confirmation and password-reset links: the key in the path "
        "is the secret, sent to the address's owner.",
        lambda route: route.module.startswith("allauth."),
    ),
}


# --- Reading the routes from the resolver -----------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None
    namespace: str | None
    path: str
    kwargs: frozenset[str]
    methods: tuple[str, ...]
    module: str

    @property
    def is_api(self) -> bool:
        return self.path.startswith(API_PREFIX)

    @property
    def allowed(self) -> Allowed | None:
        return next((rule for rule in PUBLIC_ROUTES.values() if rule.match(self)), None)


def _accepted_methods(callback) -> tuple[str, ...]:
    """The methods a view answers: a class view's handlers, or a function view's
    `require_http_methods` list (found through the decorators' `__wrapped__`); a function view
    without one answers every method, and is sent GET and POST."""
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return tuple(m for m in METHODS if hasattr(view_class, m.lower()))
    function = callback
    while function is not None:
        code = getattr(function, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = function.__closure__[code.co_freevars.index("request_method_list")]
            return tuple(m for m in METHODS if m in cell.cell_contents)
        function = getattr(function, "__wrapped__", None)
    return ("GET", "POST")


def _walk(patterns, prefix="", namespace=None, kwargs=frozenset()):
    for entry in patterns:
        names = frozenset(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner, kwargs | names)
        elif isinstance(entry, URLPattern):
            name = None
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            callback = entry.callback
            yield Route(
                name=name,
                namespace=namespace,
                path=prefix + str(entry.pattern),
                kwargs=kwargs | names,
                methods=_accepted_methods(callback),
                module=getattr(callback, "__module__", "") or "",
            )


def routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def id_routes() -> list[Route]:
    return [route for route in routes() if route.kwargs]


def covered_routes() -> list[Route]:
    return [route for route in id_routes() if route.allowed is None]


def _cases():
    for route in covered_routes():
        for method in route.methods:
            yield pytest.param(route, method, id=f"{route.name or route.path} {method}")


# --- The guard: a new id-taking route must be covered or allow-listed -------------------------


def coverage_problems(candidates: list[Route]) -> list[str]:
    problems = []
    for route in candidates:
        if route.allowed is not None:
            continue
        extras = ROUTE_EXTRAS.get(route.name or "", {})
        unknown = sorted(route.kwargs - ID_BUILDERS.keys() - extras.keys())
        if route.name is None:
            problems.append(f"{route.path}: has no name, so no URL can be built for it")
        elif unknown:
            problems.append(
                f"{route.name} ({route.path}): no builder for {', '.join(unknown)}; add one to "
                "ID_BUILDERS / ROUTE_EXTRAS, or the route to PUBLIC_ROUTES with the reason"
            )
        if not route.methods:
            problems.append(f"{route.name} ({route.path}): no HTTP method found")
    return problems


def test_every_route_that_takes_an_id_is_covered():
    problems = coverage_problems(id_routes())
    assert not problems, "\n".join(problems)


def test_a_new_route_with_an_unknown_id_is_not_missed():
    new_route = Route(
        name="trainings:widget",
        namespace="trainings",
        path="trainings/widgets/<uuid:widget_id>/",
        kwargs=frozenset({"widget_id"}),
        methods=("GET",),
        module="trainings.views",
    )
    assert coverage_problems([new_route]) == [
        "trainings:widget (trainings/widgets/<uuid:widget_id>/): no builder for widget_id; add "
        "one to ID_BUILDERS / ROUTE_EXTRAS, or the route to PUBLIC_ROUTES with the reason"
    ]
    # A new route with a known id is covered without anyone listing it.
    known = Route(
        name="trainings:dataset-export",
        namespace="trainings",
        path="trainings/datasets/<uuid:dataset_id>/export/",
        kwargs=frozenset({"dataset_id"}),
        methods=("GET",),
        module="trainings.views",
    )
    assert coverage_problems([known]) == []


def test_the_allow_list_has_no_stale_entries():
    every = id_routes()
    for key, rule in PUBLIC_ROUTES.items():
        assert any(rule.match(route) for route in every), f"{key} matches no route any more"
    for name in ROUTE_EXTRAS:
        assert name in {route.name for route in covered_routes()}, f"{name} is gone"


def test_the_routes_the_review_named_are_covered():
    cases = {(route.name, method) for route in covered_routes() for method in route.methods}
    named = {
        # The API: a dataset's photo, its thumbnail, renaming a model.
        ("api:dataset-image-detail", "GET"),
        ("api:dataset-image-detail", "PATCH"),
        ("api:dataset-image-detail", "DELETE"),
        ("api:dataset-image-thumbnail", "GET"),
        ("api:model-detail", "PATCH"),
        ("api:model-detail", "DELETE"),
        ("api:training-cancel", "POST"),
        ("api:training-retry", "POST"),
        # The pages' forms.
        ("trainings:dataset-upload", "POST"),
        ("trainings:dataset-delete", "POST"),
        ("trainings:dataset-image-caption", "POST"),
        ("trainings:dataset-image-face-confirm", "POST"),
        ("trainings:dataset-image-delete", "POST"),
        ("trainings:model", "POST"),  # starts a training
        ("trainings:model-delete", "POST"),
        ("trainings:run-cancel", "POST"),
        ("trainings:run-retry", "POST"),
        # The htmx partials.
        ("trainings:dataset-images", "GET"),
        ("trainings:run-status", "GET"),
    }
    assert named <= cases, sorted(named - cases)
    assert len(cases) >= 60  # the whole project, not a handful


# --- The check itself -------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _replicate_unreachable(settings):
    """The owner's requests may reach for Replicate (deleting a model): it answers nothing."""
    settings.REPLICATE_API_TOKEN = ""
    settings.REPLICATE_BASE_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"


@pytest.fixture
def world(owner) -> World:
    dataset = Dataset.objects.create(owner=owner, name="Summer photos")
    dataset_image = DatasetImage(
        dataset=dataset, original_name="me.jpg", status=DatasetImage.Status.READY
    )
    dataset_image.thumbnail.save("thumbnail.webp", ContentFile(picture()), save=False)
    dataset_image.save()
    lora_model = ready_lora_model(owner, None, trigger_word="ZORVEK", name="Me")
    run = TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        lora_model=lora_model,
        status=TrainingRun.Status.FAILED,
        error_message="The trainer stopped.",
    )
    generation = make_generation(owner)
    generation.init_image.save("image.png", ContentFile(picture(fmt="PNG")), save=True)
    image = make_image(owner, generation=generation)
    collection = collection_create(user=owner, name="Holidays")
    collection_images_add(collection=collection, images=[image])
    share_link = share_link_create(user=owner, image=image)
    export = DataExport(
        user=owner,
        status=DataExport.Status.READY,
        finished_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=1),
    )
    export.file.save(
        f"exports/{owner.public_id}/export.zip", ContentFile(b"PK\x05\x06" + bytes(18))
    )
    event_endpoint = events_one_of_everything(owner)
    # The model's identity check, as its first training left it.
    IdentityCheck.objects.create(
        lora_model=lora_model, outcome=IdentityCheck.Outcome.MATCHED, distance=0.31
    )
    return World(
        dataset=dataset,
        dataset_image=dataset_image,
        lora_model=lora_model,
        run=run,
        generation=generation,
        image=image,
        collection=collection,
        share_link=share_link,
        export=export,
        event_endpoint=event_endpoint,
        event_delivery=event_endpoint.deliveries.first(),
    )


def _url(route: Route, world: World) -> str:
    values = dict(ROUTE_EXTRAS.get(route.name, {}))
    for name in route.kwargs - values.keys():
        values[name] = ID_BUILDERS[name](world, route.kwargs)
    return reverse(route.name, kwargs=values)


def _client(route: Route, user=None):
    if route.is_api:
        client = APIClient(raise_request_exception=False)
        if user is not None:
            access = user_tokens_issue(user=user)["access"]
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client
    # The test client skips CSRF checks: what is checked here is whose object it is.
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _send(client, route: Route, method: str, url: str):
    options = {}
    if method in ("POST", "PUT", "PATCH"):
        options = {"data": {}, "format": "json"} if route.is_api else {"data": {}}
    return getattr(client, method.lower())(url, **options)


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method"), list(_cases()))
def test_only_the_owner_reaches_the_object(route, method, world, owner, stranger):
    url = _url(route, world)

    response = _send(_client(route, stranger), route, method, url)
    assert response.status_code == 404, (
        f"{method} {url} ({route.name}) answered a signed-in stranger {response.status_code}"
    )

    response = _send(_client(route), route, method, url)
    if route.is_api:
        assert response.status_code == 401, (
            f"{method} {url} ({route.name}) answered an anonymous caller {response.status_code}"
        )
    else:
        assert response.status_code == 302, (
            f"{method} {url} ({route.name}) answered an anonymous caller {response.status_code}"
        )
        assert response["Location"].startswith(reverse("account_login")), response["Location"]

    # Last, as it may change or delete the object: the same request reaches it for its owner.
    response = _send(_client(route, owner), route, method, url)
    assert response.status_code != 404, (
        f"{method} {url} ({route.name}) is a 404 for its owner too: the test built a wrong URL"
    )
