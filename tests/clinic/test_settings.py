from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_check(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_without_a_secret_key_refuses_to_start():
    result = _run_check(DJANGO_DEBUG="false")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = _run_check(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-real-looking-secret-" + "x7Kq9" * 10,
        DJANGO_ALLOWED_HOSTS="clinic.example.org",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_is_off_unless_asked():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DJANGO_SECRET_KEY"] = "x" * 60
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings';"
            "from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "False"


def test_file_email_url_keeps_an_absolute_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_DEBUG="true", EMAIL_URL=f"filemail://{tmp_path}/mail")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings';"
            "from django.conf import settings; print(settings.EMAIL_FILE_PATH)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip().splitlines()[-1] == f"{tmp_path}/mail"


def _production_setting(name: str, **environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 60, **environment})
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
        [
            sys.executable,
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings';"
            f"from django.conf import settings; print(getattr(settings, {name!r}, None))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_forwarded_protocol_header_is_trusted_only_behind_a_configured_proxy():
    """Without a proxy of ours in front, a client could claim HTTPS with a header of its own."""
    assert _production_setting("SECURE_PROXY_SSL_HEADER") == "None"
    assert _production_setting("SECURE_PROXY_SSL_HEADER", DJANGO_TRUSTED_PROXY_COUNT="1") == str(
        ("HTTP_X_FORWARDED_PROTO", "https")
    )
