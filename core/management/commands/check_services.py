from django.core.management.base import BaseCommand, CommandError

from core.health import checks_run


class Command(BaseCommand):
    help = (
        "Check every service the platform uses (database, broker, storage, Replicate); "
        "exit non-zero naming the parts that do not answer."
    )

    def handle(self, *args, **options):
        results = checks_run(deep=True)
        for name, error in results.items():
            if error is None:
                self.stdout.write(f"{name}: ok")
            else:
                # An operator runs this: the reason is shown, unlike on the public probe.
                self.stdout.write(f"{name}: error: {type(error).__name__}: {error}")
        failed = [name for name, error in results.items() if error is not None]
        if failed:
            raise CommandError(f"Not working: {', '.join(failed)}")
        self.stdout.write(self.style.SUCCESS("Every service answers."))
