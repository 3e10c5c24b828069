from core.exceptions import DomainError


class EmailNotVerified(DomainError):
    status_code = 403
    code = "email_not_verified"


class ExportGone(DomainError):
    status_code = 410
    code = "expired"
