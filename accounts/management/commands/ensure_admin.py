from django.core.management.base import BaseCommand

from accounts.services import embedded_admin_ensure


class Command(BaseCommand):
    help = "Create an administrator with a random password if none exists, and say how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, email, **options):
        admin, password = embedded_admin_ensure(email=email)
        if password:
            self.stdout.write(f"  Admin created: {admin.email}  password: {password}")
            self.stdout.write("  (shown once; change it with `make admin-password`)")
        else:
            self.stdout.write(
                f"  Admin: {admin.email} (password shown when it was created; "
                "`make admin-password` sets a new one)"
            )
