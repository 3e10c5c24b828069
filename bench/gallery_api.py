"""The gallery API page (GET /api/v1/images/) for a user with 20,000 of 100,000 images.

Seeded once with bulk_create into a PostgreSQL database of its own (`<name>_bench_gallery`,
kept between runs: the seed takes a while, the pages do not). A fifth of the images are the
user's, 90% approved, 5% held, 5% pending; 70% have a likeness score. Each case asks for a page
of 30 through the API view (serializer, pagination and SQL; no HTTP, no throttle), at page 1 and
~10,000 rows deep (a cursor built at that row, as following `next` would reach it), and counts
its SQL queries.

Rows:
- <case> page 1 / deep: the request time, p50/p95 over the requests.
- SQL at depth: the page's query alone (executed and fetched, no models made), keyset
  (`WHERE created_at < …`) against OFFSET 10,000.
- SQL ordering=-likeness: that page's query with gallery migration 0010's index and without it
  (dropped inside a transaction that is rolled back): the before and after of the index.
"""

from __future__ import annotations

import argparse
import datetime
import random
import time
from typing import TextIO
from urllib.parse import parse_qs, urlparse

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench import Figure, bench_database

REQUIRES = ("DATABASE_URL",)
USER_IMAGES = 20_000
ALL_IMAGES = 100_000
PAGE = 30
DEPTH = 10_000
OWNER_EMAIL = "gallery-bench-owner@example.com"
LIKENESS_INDEX = "gallery_image_likeness_order"  # gallery/migrations/0010


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=40, help="requests per case (40)")


def _seed() -> None:
    from accounts.models import User
    from gallery.models import GeneratedImage, Generation

    if User.objects.filter(email=OWNER_EMAIL).exists():
        return
    rng = random.Random(15)
    others = ALL_IMAGES // USER_IMAGES - 1
    users = [User.objects.create_user(email=OWNER_EMAIL, password=None)] + [
        User.objects.create_user(email=f"gallery-bench-{n}@example.com", password=None)
        for n in range(others)
    ]
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    per_generation = 4
    for user in users:
        generations = Generation.objects.bulk_create(
            [
                Generation(
                    owner=user,
                    target="black-forest-labs/flux-schnell",
                    model_label="FLUX schnell (default)",
                    prompt="a portrait on a beach",
                    prompt_sent="a portrait on a beach",
                    parameters={"num_outputs": per_generation},
                    status=Generation.Status.SUCCEEDED,
                    cost=4,
                    created_at=start + datetime.timedelta(minutes=n),
                )
                for n in range(USER_IMAGES // per_generation)
            ],
            batch_size=2000,
        )
        images = []
        for n in range(USER_IMAGES):
            generation = generations[n // per_generation]
            roll = rng.random()
            state = "approved" if roll < 0.9 else "held" if roll < 0.95 else "pending"
            scored = rng.random() < 0.7
            images.append(
                GeneratedImage(
                    owner=user,
                    generation=generation,
                    index=n % per_generation,
                    file=f"users/{user.pk}/images/{n}.webp",
                    thumbnail=f"users/{user.pk}/thumbnails/{n}.webp",
                    placeholder_color="#336699",
                    width=1024,
                    height=1024,
                    format="webp",
                    moderation_state=state,
                    likeness=rng.randint(0, 100) if scored else None,
                    has_face=scored,
                    created_at=generation.created_at + datetime.timedelta(seconds=n % 4),
                )
            )
        GeneratedImage.objects.bulk_create(images, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE gallery_generatedimage")
        cursor.execute("ANALYZE gallery_generation")


def _deep_cursor(paginator_class, queryset, attribute: str, depth: int) -> str:
    """The cursor of the page that starts at row `depth`, as DRF encodes it."""
    from rest_framework.pagination import Cursor

    row = queryset[depth - 1 : depth].get()
    paginator = paginator_class()
    paginator.base_url = "http://testserver/api/v1/images/"
    url = paginator.encode_cursor(
        Cursor(offset=0, reverse=False, position=str(getattr(row, attribute)))
    )
    return parse_qs(urlparse(url).query)["cursor"][0]


def _ms(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _sql_ms(queryset, repeat: int) -> list[float]:
    """The query's own time: executed and fetched, no model instances made."""
    sql, params = queryset.query.sql_with_params()

    def execute():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    execute()
    return _ms(execute, repeat)


def _cases(user) -> list[tuple[str, dict]]:
    from gallery import selectors
    from gallery.apis.images import ImageLikenessPagination, ImagePagination

    newest = selectors.image_list(user=user)
    likeness = selectors.image_list(
        user=user, filters=selectors.ImageFilters(sort=selectors.LIKENESS_SORT)
    )
    looks = selectors.image_list(
        user=user,
        filters=selectors.ImageFilters(sort=selectors.LIKENESS_SORT, looks_like_me=True),
    )
    looks_depth = min(DEPTH, looks.count() - PAGE)
    return [
        ("newest, page 1", {}),
        (
            f"newest, {DEPTH:,} deep",
            {"cursor": _deep_cursor(ImagePagination, newest, "created_at", DEPTH)},
        ),
        ("held (moderation filter), page 1", {"status": "held"}),
        ("ordering=-likeness, page 1", {"ordering": "-likeness"}),
        (
            f"ordering=-likeness, {DEPTH:,} deep",
            {
                "ordering": "-likeness",
                "cursor": _deep_cursor(ImageLikenessPagination, likeness, "likeness_key", DEPTH),
            },
        ),
        ("looks_like_me, page 1", {"looks_like_me": "true"}),
        (
            f"looks_like_me + -likeness, {looks_depth:,} deep",
            {
                "looks_like_me": "true",
                "ordering": "-likeness",
                "cursor": _deep_cursor(ImageLikenessPagination, looks, "likeness_key", looks_depth),
            },
        ),
    ]


def measure(requests: int) -> list[Figure]:
    from rest_framework.test import APIRequestFactory, force_authenticate

    from accounts.models import User
    from gallery import selectors
    from gallery.apis.images import ImageListApi

    class UnthrottledImageListApi(ImageListApi):
        throttle_classes = []  # hundreds of requests a second are the point here

    view = UnthrottledImageListApi.as_view()
    factory = APIRequestFactory()
    _seed()
    user = User.objects.get(email=OWNER_EMAIL)
    figures = []

    def get(params):
        request = factory.get("/api/v1/images/", {"page_size": PAGE, **params})
        force_authenticate(request, user=user)
        response = view(request)
        response.render()
        assert response.status_code == 200, response.content[:300]
        return response

    for name, params in _cases(user):
        for _ in range(3):
            get(params)  # warm
        with CaptureQueriesContext(connection) as queries:
            count = len(get(params).data["results"])
        assert count == PAGE, (name, count)
        times = _ms(lambda params=params: get(params), requests)
        figures.append(Figure.of_times(name, times, note=f"{len(queries)} SQL queries"))

    # The SQL of a page at depth alone: OFFSET against keyset.
    newest = selectors.image_list(user=user)
    boundary = newest[DEPTH - 1 : DEPTH].get()
    offset_ms = _sql_ms(newest[DEPTH : DEPTH + PAGE], max(10, requests // 2))
    keyset_ms = _sql_ms(
        newest.filter(created_at__lt=boundary.created_at)[:PAGE], max(10, requests // 2)
    )
    figures.append(Figure.of_times(f"SQL at {DEPTH:,}: OFFSET", offset_ms))
    figures.append(
        Figure.of_times(
            f"SQL at {DEPTH:,}: keyset", keyset_ms, baseline=f"SQL at {DEPTH:,}: OFFSET"
        )
    )
    figures += _likeness_index_figures(user, max(10, requests // 2))
    return figures


def _likeness_index_figures(user, repeat: int) -> list[Figure]:
    """The best-likeness-first page's SQL with gallery migration 0010's index, and without it
    (dropped in a transaction that is rolled back)."""
    from gallery import selectors

    likeness = selectors.image_list(
        user=user, filters=selectors.ImageFilters(sort=selectors.LIKENESS_SORT)
    )

    with_index = _sql_ms(likeness[: PAGE + 1], repeat)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {LIKENESS_INDEX}")
        without_index = _sql_ms(likeness[: PAGE + 1], repeat)
        transaction.set_rollback(True)
    name = "SQL ordering=-likeness page 1"
    return [
        Figure.of_times(f"{name}, no index (before)", without_index),
        Figure.of_times(f"{name}, index 0010", with_index, baseline=f"{name}, no index (before)"),
    ]


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    if connection.vendor != "postgresql":
        raise RuntimeError("gallery_api needs PostgreSQL: set DATABASE_URL")
    started = time.monotonic()
    with bench_database("gallery", keep=True):
        figures = measure(args.requests)
    print(
        f"gallery_api: GET /api/v1/images/?page_size={PAGE} for a user with {USER_IMAGES:,} of "
        f"{ALL_IMAGES:,} images, {args.requests} requests a case, in process "
        f"({time.monotonic() - started:.0f} s).",
        file=out,
    )
    width = max(len(figure.name) for figure in figures)
    print(f"{'':{width}}  {'p50 ms':>7}  {'p95 ms':>7}", file=out)
    for figure in figures:
        note = f"  {figure.note}" if figure.note else ""
        print(f"{figure.name:{width}}  {figure.p50:7.2f}  {figure.p95:7.2f}{note}", file=out)
    by_name = {figure.name: figure.value for figure in figures}
    offset, keyset = by_name[f"SQL at {DEPTH:,}: OFFSET"], by_name[f"SQL at {DEPTH:,}: keyset"]
    print(f"keyset is {offset / keyset:.0f}x faster than OFFSET at {DEPTH:,} rows", file=out)
    return figures
