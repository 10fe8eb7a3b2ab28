#!/usr/bin/env bash
# Installs the Debian packages the full test suite drives (real ssh-keygen, sshd, puttygen, argon2 CLI,
# openssl, cloud-init's schema checker, PostgreSQL for the store suites, Chromium and chromium-driver for
# the portal), only when something is missing.
# Safe to run again.
set -euo pipefail

need=()
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v puttygen >/dev/null || need+=(putty-tools)
command -v argon2 >/dev/null || need+=(argon2)
command -v openssl >/dev/null || need+=(openssl)
command -v cloud-init >/dev/null || need+=(cloud-init)
command -v curl >/dev/null || need+=(curl)
command -v nm >/dev/null || need+=(binutils)  # what each executable links (RoleExecutablesE2ETests)
command -v zsh >/dev/null || need+=(zsh)     # completion scripts are read by the shells they are for
command -v fish >/dev/null || need+=(fish)
# The tests start their own PostgreSQL (initdb in a temporary directory); the packaged cluster stays down.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
# The portal's browser suite drives Debian's own Chromium through its chromium-driver.
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)

if [ "${#need[@]}" -gt 0 ]; then
  echo "installing test dependencies: ${need[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The OpenAPI contract is checked with openapi-spec-validator, the running server with schemathesis (PyPI).
python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install --quiet openapi-spec-validator
command -v schemathesis >/dev/null || python3 -m pip install --quiet schemathesis
# The portal's browser suite: pytest with Selenium (which is told where chromium and chromedriver are, so it
# downloads nothing).
python3 -c 'import selenium, pytest' 2>/dev/null || python3 -m pip install --quiet selenium pytest
