"""Create a local admin account once and print the demo logins.

For the local demo only (`make run`): passwords are generated on first run
and kept in a git-ignored file so later runs can print them again. When the
demo content is loaded, one demo facilitator gets a password too, so the
facilitator area can be tried.
"""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from events.groups import FACILITATORS_GROUP

LOGIN_FILE = Path(settings.BASE_DIR) / ".admin-login"


class Command(BaseCommand):
    help = "Create the local admin account if needed and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_admin is for local development only.")
        logins = self._read()
        users = get_user_model()
        if not users.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser(
                username=username, email="", password=password, first_name="Admin"
            )
            logins["admin"] = [username, password]
        facilitator = (
            users.objects.filter(groups__name=FACILITATORS_GROUP, is_active=True)
            .order_by("username")
            .first()
        )
        if facilitator and logins.get("facilitator", [None])[0] != facilitator.username:
            password = secrets.token_urlsafe(12)
            facilitator.set_password(password)
            facilitator.save(update_fields=["password"])
            logins["facilitator"] = [facilitator.username, password]
        self._write(logins)
        self._print(logins)

    def _read(self):
        try:
            return json.loads(LOGIN_FILE.read_text())
        except (OSError, ValueError):
            return {}

    def _write(self, logins):
        LOGIN_FILE.write_text(json.dumps(logins))
        LOGIN_FILE.chmod(0o600)

    def _print(self, logins):
        lines = []
        if "admin" in logins:
            username, password = logins["admin"]
            lines += [
                "Admin login for http://127.0.0.1:8000/admin/",
                f"    username: {username}",
                f"    password: {password}",
            ]
        else:
            lines.append(
                "The admin account was made earlier; reset its password with: "
                ".venv/bin/python manage.py changepassword admin"
            )
        if "facilitator" in logins:
            username, password = logins["facilitator"]
            lines += [
                "Demo facilitator login for http://127.0.0.1:8000/facilitate/",
                f"    username: {username}",
                f"    password: {password}",
            ]
        self.stdout.write(self.style.SUCCESS("\n" + "\n".join(lines) + "\n"))
