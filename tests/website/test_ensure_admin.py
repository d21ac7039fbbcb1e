"""The demo login command run by `make run`."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.test import RequestFactory

from website.management.commands import ensure_admin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def login_file(tmp_path, monkeypatch, settings):
    settings.DEBUG = True
    path = tmp_path / "login"
    monkeypatch.setattr(ensure_admin, "LOGIN_FILE", path)
    return path


def _signs_in(username, password):
    """The account a sign-in finds (django-axes needs the request)."""
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password)


def _run(capsys):
    call_command("ensure_admin")
    return capsys.readouterr().out


def test_creates_admin_once_and_prints_a_working_login_every_time(capsys):
    first = _run(capsys)
    second = _run(capsys)
    password = first.split("password: ")[1].split()[0]
    assert password in second
    assert get_user_model().objects.filter(username="admin").count() == 1
    admin = _signs_in("admin", password)
    assert admin.is_superuser
    validate_password(password, admin)  # AUTH_PASSWORD_VALIDATORS accept it


def test_gives_a_demo_facilitator_a_password(capsys):
    user = get_user_model().objects.create_user("amara")
    user.groups.add(Group.objects.get_or_create(name="Facilitators")[0])
    out = _run(capsys)
    password = out.split("facilitate/")[1].split("password: ")[1].split()[0]
    assert _signs_in("amara", password) == user
    validate_password(password, user)
    assert password in _run(capsys)


def test_refuses_outside_development(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("ensure_admin")
