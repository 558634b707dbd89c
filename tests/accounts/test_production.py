"""Production settings: XINFANG_ENV=production passes Django's deployment checks with no warning,
and refuses to start without a real secret key or with debug on."""
from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys

import pytest


def run_check(tmp_path, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("XINFANG_")}
    full.update(XINFANG_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run([sys.executable, "-m", "xinfang", "check", "--deploy", "--fail-level", "WARNING"],
                          env=full, capture_output=True, text=True, timeout=120)


@pytest.fixture
def key():
    return secrets.token_urlsafe(60)


def test_production_settings_pass_the_deploy_checks(tmp_path, key):
    result = run_check(tmp_path, XINFANG_ENV="production", XINFANG_SECRET_KEY=key,
                       XINFANG_DATA_KEY=base64.urlsafe_b64encode(secrets.token_bytes(64)).decode(),
                       XINFANG_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_development_settings_do_not(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


@pytest.mark.parametrize("env, message", [
    ({}, "XINFANG_SECRET_KEY"),
    ({"XINFANG_SECRET_KEY": "short"}, "XINFANG_SECRET_KEY"),
    ({"XINFANG_SECRET_KEY": "k" * 60}, "XINFANG_SECRET_KEY"),
    ({"XINFANG_DEBUG": "true"}, "XINFANG_DEBUG"),
])
def test_production_refuses_to_start_misconfigured(tmp_path, key, env, message):
    if "XINFANG_DEBUG" in env:
        env = {"XINFANG_SECRET_KEY": key, **env}  # a good key, so debug is what is refused
    result = run_check(tmp_path, XINFANG_ENV="production", **env)
    assert result.returncode != 0 and message in result.stderr


def test_production_needs_the_personal_data_key(tmp_path, key):
    result = run_check(tmp_path, XINFANG_ENV="production", XINFANG_SECRET_KEY=key)
    assert result.returncode != 0 and "XINFANG_DATA_KEY" in result.stderr
