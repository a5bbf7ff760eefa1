"""Which EHR adapter serves a practice. Adapters hold an HTTP connection
pool and a cached access token, so each process keeps one per practice
and builds a new one when the practice's connection settings change."""

from __future__ import annotations

import os
import threading

from django.conf import settings

from hub.ehr.fhir import BearerToken, ClientCredentials, FhirR4Adapter, NoAuth
from hub.ehr.models import EhrConnection

_adapters: dict[int, tuple[tuple, FhirR4Adapter]] = {}
_lock = threading.Lock()


class NotConfigured(Exception):
    """The practice has no usable EHR connection; the message says why."""


def _settings_of(connection: EhrConnection) -> tuple:
    base_url = connection.base_url or settings.EHR_DEMO_URL
    secret = os.environ.get(connection.secret_env, "") if connection.secret_env else ""
    return (base_url, connection.auth, connection.client_id, connection.scope, connection.token_url,
            connection.key_id, secret, connection.timeout_seconds, connection.label)


def _build(base_url, auth, client_id, scope, token_url, key_id, secret, timeout, label) -> FhirR4Adapter:
    if auth == EhrConnection.Auth.BEARER:
        credentials = BearerToken(secret)
    elif auth == EhrConnection.Auth.CLIENT_SECRET:
        credentials = ClientCredentials(base_url=base_url, client_id=client_id, scope=scope, token_url=token_url,
                                        secret=secret)
    elif auth == EhrConnection.Auth.SMART_BACKEND:
        credentials = ClientCredentials(base_url=base_url, client_id=client_id, scope=scope, token_url=token_url,
                                        private_key_pem=secret, key_id=key_id)
    else:
        credentials = NoAuth()
    return FhirR4Adapter(base_url, auth=credentials, timeout=timeout, label=label)


def adapter_for(practice_id: int) -> FhirR4Adapter:
    connection = EhrConnection.objects.filter(practice_id=practice_id, enabled=True).first()
    if connection is None:
        raise NotConfigured("No EHR is connected for this practice. An administrator can connect one.")
    config = _settings_of(connection)
    if not config[0]:
        raise NotConfigured("This practice's EHR connection has no FHIR base URL, and no demo EHR runs here.")
    if connection.auth != EhrConnection.Auth.NONE and not config[6]:
        raise NotConfigured(f"The EHR credentials are missing: the environment variable "
                            f"{connection.secret_env or '(not named)'} is not set.")
    with _lock:
        cached = _adapters.get(practice_id)
        if cached is not None and cached[0] == config:
            return cached[1]
        adapter = _build(*config)
        _adapters[practice_id] = (config, adapter)
    if cached is not None:
        cached[1].close()
    return adapter
