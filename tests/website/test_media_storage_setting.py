"""Media on another Django storage backend, chosen by the environment."""

import json
import os
import subprocess
import sys


def _storages(**environ):
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "from django.core.files.storage import storages; "
        "default_storage = storages['default']; "
        "print(json.dumps([settings.STORAGES['default'], "
        "type(default_storage).__name__, str(default_storage.location)]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "website.settings.dev", **environ}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_files_under_media_root_unless_the_environment_names_a_backend(tmp_path):
    default, kind, _location = _storages()
    assert default == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {},
    }
    assert kind == "FileSystemStorage"
    options = {"location": str(tmp_path), "base_url": "/files/"}
    chosen, kind, location = _storages(
        MEDIA_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
        MEDIA_STORAGE_OPTIONS=json.dumps(options),
    )
    assert chosen["BACKEND"] == "django.core.files.storage.InMemoryStorage"
    assert chosen["OPTIONS"] == options
    assert kind == "InMemoryStorage" and location == str(tmp_path)
