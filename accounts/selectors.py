"""Reads of account data, always scoped to the user they belong to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, Sum

from core.exceptions import Conflict, NotFound

from .exceptions import ExportGone
from .models import CreditEntry, DataExport, Plan, User


def plan_default() -> Plan:
    """The plan of users without one; made again, as the migration made it, if it was removed."""
    plan = Plan.objects.filter(is_default=True).first()
    if plan is None:
        from .services import plan_default_ensure  # services import the selectors

        plan = plan_default_ensure()
    return plan


def plan_for_user(*, user: User) -> Plan:
    if user.plan_id is not None:
        return user.plan
    return plan_default()


def credit_balance(*, user: User) -> int:
    """Credits the user can spend now: the sum of their ledger (open reservations included)."""
    total = CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"]
    return total or 0


def credit_reserved(*, user: User) -> int:
    """Credits held by reservations not yet captured or refunded."""
    total = CreditEntry.objects.filter(
        user=user, kind=CreditEntry.Kind.RESERVE, settlement__isnull=True
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or 0)


def credit_history(*, user: User) -> QuerySet[CreditEntry]:
    """The user's ledger, newest first."""
    return CreditEntry.objects.filter(user=user).order_by("-created_at", "-id")


def user_email_verified(*, user: User) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def user_is_moderator(*, user) -> bool:
    """Staff allowed on the moderation pages (the `moderator` group, or an administrator)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("accounts.moderate_content")
    )


def data_export_list(*, user: User) -> QuerySet[DataExport]:
    return DataExport.objects.filter(user=user).order_by("-created_at")


def data_export_get(*, user: User, export_id: uuid.UUID | str) -> DataExport:
    try:
        return DataExport.objects.get(user=user, id=export_id)
    except (DataExport.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("No such export.") from error


def data_export_get_downloadable(*, user: User, export_id: uuid.UUID | str) -> DataExport:
    export = data_export_get(user=user, export_id=export_id)
    if export.is_expired:
        raise ExportGone("This export has expired: ask for a new one on your profile page.")
    if not export.is_downloadable:
        raise Conflict("This export is not ready yet.", code="not_ready")
    return export


def data_export_open(*, user: User) -> DataExport | None:
    """The export being prepared for the user, if any."""
    return (
        DataExport.objects.filter(user=user)
        .filter(Q(status=DataExport.Status.PENDING) | Q(status=DataExport.Status.BUILDING))
        .first()
    )


def credit_reservation_id(*, reference: str) -> int | None:
    """The reservation made under `reference` (e.g. `training_run:<id>`), if there is one."""
    return (
        CreditEntry.objects.filter(kind=CreditEntry.Kind.RESERVE, reference=reference)
        .values_list("pk", flat=True)
        .first()
    )


# --- The credit statement: one line per action, like a bank statement ---------------------


@dataclass(frozen=True)
class CreditStatementLine:
    """One action on the credits: a training, a generation, a pack bought, a refund.

    A reservation and its capture or refund are one line: `amount` is their net change of the
    balance, `state` says where it stands (reserved: held while the work runs; charged: spent;
    refunded: given back, or a payment's credits taken back; credited: added).
    """

    date: datetime
    description: str
    amount: int
    state: str
    reference: str

    STATE_LABELS = {
        "reserved": "Reserved",
        "charged": "Charged",
        "refunded": "Refunded",
        "credited": "Credited",
    }

    @property
    def state_label(self) -> str:
        return self.STATE_LABELS.get(self.state, self.state)


def credit_statement(*, user: User, limit: int = 50) -> list[CreditStatementLine]:
    """The user's credit history as a statement, newest first, at most `limit` lines.

    Grouped by what each entry is for: a grant is a line of its own; a reservation (its
    `reference`, e.g. `training_run:<id>`) and the capture or refund that settles it are one
    line, dated when the work started. A negative grant (a refunded or disputed payment's
    credits taken back) is a refund.
    """
    heads = (
        CreditEntry.objects.filter(
            user=user, kind__in=[CreditEntry.Kind.GRANT, CreditEntry.Kind.RESERVE]
        )
        .select_related("settlement")
        .order_by("-created_at", "-id")[:limit]
    )
    lines = []
    for head in heads:
        if head.kind == CreditEntry.Kind.GRANT:
            state = "credited" if head.amount >= 0 else "refunded"
            amount = head.amount
        else:
            settlement = getattr(head, "settlement", None)
            amount = head.amount + (settlement.amount if settlement is not None else 0)
            if settlement is None:
                state = "reserved"
            elif settlement.kind == CreditEntry.Kind.REFUND:
                state = "refunded"
            else:
                state = "charged"
        lines.append(
            CreditStatementLine(
                date=head.created_at,
                description=head.reason,
                amount=amount,
                state=state,
                reference=head.reference,
            )
        )
    return lines
