"""Create a local admin account once and print its login.

For the local demo only (`make run`): the password is generated on first run
and kept in a git-ignored file so later runs can print it again.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

LOGIN_FILE = Path(settings.BASE_DIR) / ".admin-login"


class Command(BaseCommand):
    help = "Create the local admin account if needed and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_admin is for local development only.")
        users = get_user_model()
        user = users.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser(
                username=username, email="", password=password, first_name="Admin"
            )
            LOGIN_FILE.write_text(f"{username}\n{password}\n")
            LOGIN_FILE.chmod(0o600)
        elif LOGIN_FILE.exists():
            username, password = LOGIN_FILE.read_text().split()[:2]
        else:
            password = "(set earlier; change it with: manage.py changepassword admin)"
        self.stdout.write(
            self.style.SUCCESS(
                "\nAdmin login for http://127.0.0.1:8000/admin/\n"
                f"    username: {username}\n    password: {password}\n"
            )
        )
