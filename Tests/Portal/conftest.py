"""The web portal's browser suite: a real keyfleet-server on a free port, driven through Debian's headless
Chromium with Selenium (chromium-driver), and the registry's own HTTP API to set up and check what the
pages did. Run by scripts/portal-tests.sh; screenshots of every page go to $KEYFLEET_ARTIFACTS."""

import base64
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

SERVER = os.environ.get("KEYFLEET_SERVER", ".build/debug/keyfleet-server")
ARTIFACTS = os.environ.get("KEYFLEET_ARTIFACTS", ".build/test-artifacts/portal")


def new_token():
    return "kft_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


class Registry:
    """A keyfleet-server process, its URL and its administrator token."""

    def __init__(self, *options):
        self.work = tempfile.mkdtemp(prefix="keyfleet-portal-")
        self.admin = new_token()
        environment = dict(os.environ, KEYFLEET_ADMIN_TOKEN=self.admin)
        self.output = open(os.path.join(self.work, "server.out"), "w+")
        self.process = subprocess.Popen(
            [SERVER, "server", "--data-dir", os.path.join(self.work, "data"), "--listen", "127.0.0.1:0", "--log-level", "error",
             *options],
            stdout=self.output, stderr=subprocess.STDOUT, env=environment)
        deadline = time.time() + 30
        self.url = None
        while time.time() < deadline and self.url is None:
            self.output.seek(0)
            for line in self.output.read().splitlines():
                if "listening on " in line:
                    self.url = line.split("listening on ")[1].strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        if self.url is None:
            self.output.seek(0)
            raise RuntimeError("keyfleet-server did not start: " + self.output.read())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.work, ignore_errors=True)

    def api(self, method, path, body=None, token=None, expect=None):
        """Calls the API; returns (status, decoded JSON or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + (token or self.admin))
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {text[:300]!r}"
        return status, (json.loads(text) if text else None)

    def user(self, name, role="user", scope="read-write"):
        """A new user and an API token of theirs."""
        _, user = self.api("POST", "/v1/users", {"name": name, "role": role}, expect=201)
        _, created = self.api("POST", "/v1/tokens", {"user": user["id"], "scope": scope}, expect=201)
        return user, created["secret"]

    def keys(self, token=None, **query):
        path = "/v1/ssh-keys?limit=1000" + "".join(f"&{k}={urllib.request.quote(v)}" for k, v in query.items())
        return self.api("GET", path, token=token, expect=200)[1]["items"]


@pytest.fixture(scope="session")
def registry():
    server = Registry()
    yield server
    server.stop()


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                     "--disable-extensions", "--no-first-run", "--password-store=basic"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser():
    driver = make_driver()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


def ssh_keygen(directory, name, key_type="ed25519", comment="", *extra):
    path = os.path.join(directory, name)
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", path, *extra], check=True,
                   stdin=subprocess.DEVNULL)
    return path


def fingerprint(path):
    return subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", path], check=True, capture_output=True,
                          text=True).stdout.split()[1]
