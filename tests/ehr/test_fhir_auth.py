"""The hub's FHIR client authenticating to the demo EHR over HTTP: SMART
Backend Services (a signed JWT assertion), client secret, bearer token; the
token endpoint discovered, tokens reused and renewed; secrets read from the
environment variable the connection names."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub.ehr import connection as connections
from hub.ehr.adapter import EhrUnavailable
from hub.ehr.fhir import BearerToken, ClientCredentials, FhirR4Adapter
from hub.ehr.models import EhrConnection


def _key_pair(kind: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" \
        else ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_smart_backend_services(demo_ehr_factory, kind):
    private, public = _key_pair(kind)
    server = demo_ehr_factory(clients={"hub": {"secret": None, "public_key_pem": public}})
    auth = ClientCredentials(base_url=server.base_url, client_id="hub", scope="system/*.read",
                             private_key_pem=private)  # token endpoint discovered
    adapter = FhirR4Adapter(server.base_url, auth=auth)
    assert [p.id for p in adapter.patients_by_phone("+15555550101")] == ["pat-jones"]
    token = auth._token
    adapter.patient("pat-jones")
    assert auth._token == token  # reused, not fetched per call
    # The EHR forgets the token (restart, revocation): one fresh token, then on.
    server.app.tokens._tokens.clear()
    assert adapter.patient("pat-jones").family == "Jones"
    assert auth._token != token


def test_wrong_key_is_unavailable_with_a_reason(demo_ehr_factory):
    _, public = _key_pair("rsa")
    other_private, _ = _key_pair("rsa")
    server = demo_ehr_factory(clients={"hub": {"secret": None, "public_key_pem": public}})
    adapter = FhirR4Adapter(server.base_url, auth=ClientCredentials(
        base_url=server.base_url, client_id="hub", scope="system/*.read", private_key_pem=other_private))
    with pytest.raises(EhrUnavailable, match="refused the hub's credentials"):
        adapter.patient("pat-jones")


def test_unreadable_key_is_unavailable_with_a_reason(demo_ehr_factory):
    _, public = _key_pair("rsa")
    server = demo_ehr_factory(clients={"hub": {"secret": None, "public_key_pem": public}})
    adapter = FhirR4Adapter(server.base_url, auth=ClientCredentials(
        base_url=server.base_url, client_id="hub", scope="system/*.read", private_key_pem="not a key"))
    with pytest.raises(EhrUnavailable, match="private key for the EHR cannot be read"):
        adapter.patient("pat-jones")


def test_client_secret_and_bearer(demo_ehr_factory):
    server = demo_ehr_factory(clients={"hub": {"secret": "s3cret", "public_key_pem": None}})
    auth = ClientCredentials(base_url=server.base_url, client_id="hub", scope="system/*.read",
                             token_url=server.token_url, secret="s3cret")
    adapter = FhirR4Adapter(server.base_url, auth=auth)
    assert adapter.patient("pat-jones").given == "Pat"
    bearer = FhirR4Adapter(server.base_url, auth=BearerToken(auth._token))
    assert bearer.patient("pat-miller").family == "Miller"
    with pytest.raises(EhrUnavailable, match=r"\(401\)"):
        FhirR4Adapter(server.base_url, auth=BearerToken("not-a-token")).patient("pat-jones")


@pytest.mark.django_db
def test_connection_reads_the_secret_from_the_environment(world, demo_ehr_factory, monkeypatch):
    private, public = _key_pair("rsa")
    server = demo_ehr_factory(clients={"hub": {"secret": None, "public_key_pem": public}})
    connection = EhrConnection.objects.create(practice=world.practice, base_url=server.base_url,
                                              auth=EhrConnection.Auth.SMART_BACKEND, client_id="hub",
                                              secret_env="HUB_TEST_EHR_KEY")
    try:
        with pytest.raises(connections.NotConfigured, match="HUB_TEST_EHR_KEY is not set"):
            connections.adapter_for(world.practice.pk)
        monkeypatch.setenv("HUB_TEST_EHR_KEY", private)
        adapter = connections.adapter_for(world.practice.pk)
        assert adapter.patient("pat-chen-l").given == "Linda"
        assert connections.adapter_for(world.practice.pk) is adapter  # one per process and practice
        connection.timeout_seconds = 2
        connection.save()
        assert connections.adapter_for(world.practice.pk) is not adapter  # settings changed: rebuilt
    finally:
        connections._adapters.clear()
