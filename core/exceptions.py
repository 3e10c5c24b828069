"""The project's own error types. Each carries a message fit to show a user."""


class DomainError(Exception):
    """A request that cannot be carried out as asked; the message is for the user."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class LimitExceeded(DomainError):
    """A plan limit or the credit balance forbids the request (403, or 429 when it resets)."""

    status_code = 403
    code = "limit_exceeded"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after
        if retry_after is not None:
            self.status_code = 429


class ExternalServiceError(DomainError):
    """A service we depend on (Replicate, storage) failed; the message says so in plain words."""

    status_code = 502
    code = "external_service_error"


class InvalidInput(DomainError):
    """Several fields of one request are wrong; `errors` maps each field to its messages."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str]], *, code: str | None = None):
        errors = {
            field: [str(message) for message in messages] for field, messages in errors.items()
        }
        field, messages = next(iter(errors.items()), (None, ["Invalid input."]))
        super().__init__(messages[0], code=code, field=field)
        self.errors = errors
