import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


def _avatar_upload_to(instance, filename):
    # Folders are named by the opaque id: a stored name (a presigned URL) shows no user number.
    return f"avatars/{instance.public_id}/{uuid.uuid4().hex}.webp"


class Plan(models.Model):
    """What a user may do: limits set by an administrator. An empty limit means no limit."""

    name = models.CharField(max_length=60, unique=True)
    is_default = models.BooleanField(
        default=False, help_text="New users, and users without a plan, are on this plan."
    )
    max_models = models.PositiveIntegerField(
        null=True, blank=True, help_text="Trained models kept at once. Empty: no limit."
    )
    max_trainings_per_month = models.PositiveIntegerField(
        null=True, blank=True, help_text="Trainings started per calendar month (UTC)."
    )
    max_generations_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Images generated per day (UTC)."
    )
    max_storage_bytes = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes of photos and images stored."
    )
    signup_credits = models.PositiveIntegerField(
        default=0, help_text="Credits granted once when a user signs up on this plan."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="plan_one_default"
            ),
        ]

    def __str__(self):
        return self.name

    def validate_constraints(self, exclude=None):
        # Marking a plan default takes the mark off the previous one (PlanAdmin.save_model):
        # a second default is not an input error; the database constraint still holds.
        return super().validate_constraints(exclude={*(exclude or ()), "is_default"})


class User(AbstractBaseUser, PermissionsMixin):
    """A person using the platform; they sign in with their e-mail address."""

    email = models.EmailField("e-mail address", unique=True)
    # The id the API shows: random, so ids say nothing about how many users there are.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=80, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="May sign in to the admin (moderators and administrators)."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="Empty: the default plan.",
    )
    avatar = models.FileField(upload_to=_avatar_upload_to, blank=True, max_length=255)
    deletion_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["id"]
        permissions = [
            ("moderate_content", "Can use the moderation pages"),
        ]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.display_name or self.email

    @property
    def storage_folders(self) -> list[str]:
        """The names of this user's folders in storage: the opaque id, and the number older
        files were stored under (erasure deletes both)."""
        return [str(self.public_id), str(self.pk)]

    def get_short_name(self):
        return self.display_name or self.email.split("@")[0]


class CreditEntry(models.Model):
    """One change of a user's credits. The balance is the sum of `amount`, never stored.

    A reservation holds credits (negative amount) while a training or a generation runs; it is
    settled exactly once, by a capture (amount 0: the credits are spent) or a refund (the
    reserved amount comes back). The unique constraint on `reservation` makes a second
    settlement impossible, whatever the timing.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        RESERVE = "reserve", "Reserve"
        CAPTURE = "capture", "Capture"
        REFUND = "refund", "Refund"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="credit_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.IntegerField(help_text="Signed change of the balance.")
    reason = models.CharField(max_length=200)
    reference = models.CharField(
        max_length=120, blank=True, help_text="What it is for, e.g. `training_run:<id>`."
    )
    reservation = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="settlement",
        help_text="For a capture or a refund: the reservation it settles.",
    )
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=Q(kind__in=["grant", "reserve"]) & ~Q(reference=""),
                name="credit_entry_unique_reference",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(kind__in=["capture", "refund"]) & Q(reservation__isnull=False))
                    | (Q(kind__in=["grant", "reserve"]) & Q(reservation__isnull=True))
                ),
                name="credit_entry_settlement_has_reservation",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount:+d} for {self.user_id}"


class DataExport(models.Model):
    """A zip of everything a user owns, built in the background, downloadable until it expires."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        BUILDING = "building", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(blank=True, max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Export {self.id} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def download_filename(self) -> str:
        return f"avatars-export-{self.created_at:%Y-%m-%d}.zip"

    @property
    def is_downloadable(self) -> bool:
        return self.status == self.Status.READY and bool(self.file) and not self.is_expired
