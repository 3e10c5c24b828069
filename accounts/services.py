"""Writes for accounts: users, profiles, passwords, tokens and the credit ledger.

Deletion and export live in `accounts.deletion` and `accounts.exports` (each with the registry
other apps add to); plan limits in `accounts.quotas`.
"""

from __future__ import annotations

import io
import logging
import secrets
import uuid

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress, get_emailconfirmation_model
from allauth.core import ratelimit
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from PIL import Image, ImageOps, UnidentifiedImageError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from core.exceptions import Conflict, DomainError, InvalidInput, LimitExceeded

from .models import CreditEntry, Plan, User
from .quotas import user_row_lock
from .selectors import credit_reservation_id, plan_for_user

logger = logging.getLogger(__name__)

AVATAR_SIZE = 256


# --- Plans and roles ------------------------------------------------------------------------

GIB = 1024**3
# The plan migration 0003 creates; made again if no plan is marked default any more.
FREE_PLAN = {
    "max_models": 2,
    "max_trainings_per_month": 3,
    "max_generations_per_day": 100,
    "max_storage_bytes": 2 * GIB,
    "signup_credits": 400,
}
MODERATOR_GROUP = "moderator"


def plan_default_ensure() -> Plan:
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(is_default=True).first()
        if plan is None:
            plan, _ = Plan.objects.get_or_create(name="Free", defaults=FREE_PLAN)
            Plan.objects.filter(pk=plan.pk).update(is_default=True)
            plan.is_default = True
    return plan


def moderator_group_ensure() -> Group:
    """The `moderator` group with its one permission (made by migration 0003, or again here)."""
    group, _ = Group.objects.get_or_create(name=MODERATOR_GROUP)
    permission = Permission.objects.get(
        content_type__app_label="accounts", codename="moderate_content"
    )
    group.permissions.add(permission)
    return group


def user_moderator_grant(*, user: User) -> User:
    user.groups.add(moderator_group_ensure())
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


# --- Users ----------------------------------------------------------------------------------


@transaction.atomic
def embedded_admin_ensure(*, email: str) -> tuple[User, str | None]:
    """Make sure an administrator exists; return it and, only when just created, its password.

    The password is random and shown once: the embedded mode never ships a known credential.
    """
    existing = User.objects.filter(is_superuser=True).order_by("id").first()
    if existing is not None:
        return existing, None
    password = secrets.token_urlsafe(12)
    admin = User.objects.create_superuser(email=email, password=password, display_name="Admin")
    # The admin signs in on the ordinary pages too: no verification mail to a local address.
    EmailAddress.objects.create(user=admin, email=admin.email, primary=True, verified=True)
    return admin, password


def user_onboard(*, user: User) -> None:
    """What every new account gets, once: its plan's sign-up credits. Safe to call twice."""
    plan = plan_for_user(user=user)
    if plan.signup_credits:
        credits_grant(
            user=user,
            amount=plan.signup_credits,
            reason=f"Welcome credits ({plan.name} plan)",
            reference=f"signup:{user.pk}",
        )


def user_register(*, request, email: str, password: str, display_name: str = "") -> User | None:
    """Sign up through the API: the same account and verification e-mail as the web sign-up.

    When the address is taken, the owner of that address gets an "account already exists"
    e-mail instead and nothing is said to the caller (None), so the API does not reveal who
    has an account.
    """
    email = User.objects.normalize_email(email).strip().lower()
    adapter = get_adapter(request)
    if (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    ):
        adapter.send_account_already_exists_mail(email)
        return None
    user = User(email=email, display_name=display_name.strip())
    _password_check(password, user=user, field="password")
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            address = EmailAddress.objects.create(
                user=user, email=email, primary=True, verified=False
            )
    except IntegrityError:  # the same address signed up a moment ago
        adapter.send_account_already_exists_mail(email)
        return None
    user_onboard(user=user)
    # Counts against allauth's resend limit, so a sign-in attempt right after does not resend.
    ratelimit.consume(request, action="confirm_email", key=email)
    address.send_confirmation(request, signup=True)
    return user


def user_email_verify(*, request, key: str) -> User:
    """Confirm an e-mail address with the key from the verification e-mail (allauth's)."""
    confirmation = get_emailconfirmation_model().from_key(key.strip())
    if confirmation is None or confirmation.email_address.user_id is None:
        raise DomainError(
            "This verification link is not valid, has expired or was used already: "
            "sign in to get a new one.",
            field="key",
            code="invalid_key",
        )
    address = confirmation.confirm(request)
    if address is None:
        raise DomainError(
            "This e-mail address is already used by another account.",
            field="key",
            code="email_taken",
        )
    return address.user


def user_verification_resend(*, request, user: User) -> bool:
    """Send the verification e-mail again (at most once every few minutes per address)."""
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        address = EmailAddress.objects.create(
            user=user, email=user.email, primary=True, verified=False
        )
    if address.verified:
        return False
    if not ratelimit.consume(request, action="confirm_email", key=address.email.lower()):
        return False
    address.send_confirmation(request, signup=False)
    return True


def user_profile_update(*, user: User, display_name: str) -> User:
    user.display_name = display_name.strip()
    try:
        user.full_clean(validate_unique=False, exclude=["password", "avatar"])
    except ValidationError as error:
        raise InvalidInput(error.message_dict) from error
    user.save(update_fields=["display_name"])
    return user


def user_password_change(*, user: User, current_password: str, new_password: str) -> User:
    """Change a password knowing the current one; every refresh token of the user stops working."""
    if not user.check_password(current_password):
        raise DomainError(
            "Your current password is not correct.",
            field="current_password",
            code="wrong_password",
        )
    _password_check(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_tokens_revoke(user=user)
    get_adapter().send_notification_mail("account/email/password_changed", user)
    return user


def _password_check(password: str, *, user: User, field: str) -> None:
    """Django's password validators, their refusals as InvalidInput on `field`."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput({field: error.messages}) from error


def user_tokens_issue(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


def user_tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token the user holds (sign out of every app)."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(
        id__in=BlacklistedToken.objects.filter(token__user=user).values("token_id")
    )
    tokens = [BlacklistedToken(token=token) for token in outstanding]
    BlacklistedToken.objects.bulk_create(tokens, ignore_conflicts=True)
    return len(tokens)


def user_avatar_set(*, user: User, content: bytes) -> User:
    """Make `content` (any image Pillow reads) the user's avatar: a 256 px square WebP."""
    try:
        with Image.open(io.BytesIO(content)) as source:
            source.load()
            image = ImageOps.exif_transpose(source).convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise DomainError("This file is not an image we can read.", field="avatar") from error
    image = ImageOps.fit(image, (AVATAR_SIZE, AVATAR_SIZE), method=Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=85)
    previous = user.avatar.name if user.avatar else ""
    user.avatar.save(f"{uuid.uuid4().hex}.webp", ContentFile(buffer.getvalue()), save=False)
    user.save(update_fields=["avatar"])
    if previous:
        user.avatar.storage.delete(previous)
    return user


def user_avatar_clear(*, user: User) -> User:
    if user.avatar:
        user.avatar.delete(save=False)
        user.save(update_fields=["avatar"])
    return user


# --- Credits --------------------------------------------------------------------------------


def credits_grant(
    *,
    user: User,
    amount: int,
    reason: str,
    granted_by: User | None = None,
    reference: str = "",
) -> CreditEntry:
    """Add credits. The one place a payment provider calls once a payment succeeds.

    With a `reference` (e.g. the payment's id) a repeated call returns the first grant instead
    of granting twice, so a replayed payment webhook is harmless.
    """
    if amount <= 0:
        raise DomainError("A grant must be a positive number of credits.", field="amount")
    if reference:
        existing = CreditEntry.objects.filter(kind=CreditEntry.Kind.GRANT, reference=reference)
        if found := existing.first():
            return found
    try:
        with transaction.atomic():
            return CreditEntry.objects.create(
                user=user,
                kind=CreditEntry.Kind.GRANT,
                amount=amount,
                reason=reason[:200],
                reference=reference,
                granted_by=granted_by,
            )
    except IntegrityError:
        return CreditEntry.objects.get(kind=CreditEntry.Kind.GRANT, reference=reference)


def credits_reserve(
    *, user: User, amount: int, reason: str, reference: str = "", user_locked: bool = False
) -> CreditEntry:
    """Hold `amount` credits for work just submitted; LimitExceeded if the balance is short.

    The user's row is locked for the check and the insert, so concurrent reservations of one
    user queue up and can never overdraw. With a `reference` (e.g. `training_run:<id>`), calling
    again returns the same reservation.
    """
    return credits_reserve_many(
        user=user, reservations=[(amount, reason, reference)], user_locked=user_locked
    )[0]


def _credit_ledger(*, user: User, references: list[str]) -> tuple[int, int]:
    """The user's balance and how many of `references` are reserved already, in one query."""
    mine = Q(user=user)
    reserved = Q(kind=CreditEntry.Kind.RESERVE, reference__in=references)
    ledger = CreditEntry.objects.filter(mine | reserved if references else mine).aggregate(
        balance=Sum("amount", filter=mine), taken=Count("pk", filter=reserved)
    )
    return ledger["balance"] or 0, ledger["taken"] if references else 0


def credits_reserve_many(
    *, user: User, reservations: list[tuple[int, str, str]], user_locked: bool = False
) -> list[CreditEntry]:
    """`credits_reserve` for several pieces of work (amount, reason, reference): all or none.

    One lock, one query for the balance and the references already reserved, one insert.
    `user_locked`: the caller's transaction already holds the user's row lock (user_row_lock),
    so no second lock and no savepoint are needed.
    """
    if any(amount <= 0 for amount, _, _ in reservations):
        raise DomainError("A reservation must be a positive number of credits.", field="amount")
    references = [reference for _, _, reference in reservations if reference]
    with transaction.atomic(savepoint=not user_locked):
        if not user_locked:
            user_row_lock(user=user)
        balance, taken = _credit_ledger(user=user, references=references)
        reserved = Q(kind=CreditEntry.Kind.RESERVE, reference__in=references)
        existing: dict[str, CreditEntry] = {}
        if taken:
            for entry in CreditEntry.objects.filter(reserved):
                if entry.user_id != user.pk:
                    raise Conflict("This reference belongs to another reservation.")
                existing[entry.reference] = entry
        wanted = [
            CreditEntry(
                user=user,
                kind=CreditEntry.Kind.RESERVE,
                amount=-amount,
                reason=reason[:200],
                reference=reference,
            )
            for amount, reason, reference in reservations
            if reference not in existing
        ]
        needed = -sum(entry.amount for entry in wanted)
        if wanted and balance < needed:
            raise LimitExceeded(
                f"This needs {needed} credit{'' if needed == 1 else 's'} and your balance is "
                f"{balance}. Ask an administrator for more credits.",
                code="insufficient_credits",
            )
        created = iter(CreditEntry.objects.bulk_create(wanted))
        return [
            existing[reference] if reference in existing else next(created)
            for _, _, reference in reservations
        ]


def _settle(reservation: CreditEntry | int, kind: str) -> CreditEntry:
    if not isinstance(reservation, CreditEntry):
        reservation = CreditEntry.objects.get(pk=reservation)
    if reservation.kind != CreditEntry.Kind.RESERVE:
        raise ValueError(f"Credit entry {reservation.pk} is a {reservation.kind}, not a reserve.")
    existing = CreditEntry.objects.filter(reservation=reservation).first()
    if existing is None:
        amount = -reservation.amount if kind == CreditEntry.Kind.REFUND else 0
        verb = "Refund" if kind == CreditEntry.Kind.REFUND else "Spent"
        try:
            with transaction.atomic():
                return CreditEntry.objects.create(
                    user_id=reservation.user_id,
                    kind=kind,
                    amount=amount,
                    reason=f"{verb}: {reservation.reason}"[:200],
                    reference=reservation.reference,
                    reservation=reservation,
                )
        except IntegrityError:  # settled concurrently
            existing = CreditEntry.objects.get(reservation=reservation)
    if existing.kind != kind:
        logger.warning(
            "reservation %s already settled by a %s; %s ignored",
            reservation.pk,
            existing.kind,
            kind,
        )
    return existing


def credits_capture(*, reservation: CreditEntry | int) -> CreditEntry:
    """The work succeeded: the reserved credits are spent. Idempotent; after a refund, a no-op."""
    return _settle(reservation, CreditEntry.Kind.CAPTURE)


def credits_refund(*, reservation: CreditEntry | int) -> CreditEntry:
    """The work failed or was canceled: the reserved credits come back. Idempotent."""
    return _settle(reservation, CreditEntry.Kind.REFUND)


def credits_settle(*, reference: str, spent: bool) -> CreditEntry | None:
    """Capture (`spent`) or refund the reservation made under `reference`. Idempotent.

    Work that never reserved anything (made before credits existed, or granted free by an
    administrator) has nothing to settle: that is not an error.
    """
    reservation = credit_reservation_id(reference=reference)
    if reservation is None:
        logger.info("no credit reservation under %s: nothing to settle", reference)
        return None
    return _settle(reservation, CreditEntry.Kind.CAPTURE if spent else CreditEntry.Kind.REFUND)
