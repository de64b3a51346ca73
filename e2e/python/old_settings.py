"""What chromadb 1.5.9 does with the client settings the seeds' tutorial
uses (chromadb 0.4/0.5 names). Run by e2e/python_client_test.go; prints
one JSON object: setting -> the error's type and message, or "accepted"."""

import json

import chromadb
from chromadb.config import Settings

CASES = {
    "provider basic": {"chroma_client_auth_provider": "basic", "chroma_client_auth_credentials": "admin:admin"},
    "provider token": {"chroma_client_auth_provider": "token", "chroma_client_auth_credentials": "tok"},
    "provider chromadb.auth.basic.BasicAuthClientProvider": {
        "chroma_client_auth_provider": "chromadb.auth.basic.BasicAuthClientProvider",
        "chroma_client_auth_credentials": "admin:admin"},
    "provider chromadb.auth.token.TokenAuthClientProvider": {
        "chroma_client_auth_provider": "chromadb.auth.token.TokenAuthClientProvider",
        "chroma_client_auth_credentials": "tok"},
    "header X_CHROMA_TOKEN": {
        "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
        "chroma_client_auth_credentials": "tok", "chroma_auth_token_transport_header": "X_CHROMA_TOKEN"},
    "header AUTHORIZATION": {
        "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
        "chroma_client_auth_credentials": "tok", "chroma_auth_token_transport_header": "AUTHORIZATION"},
}


def old_header_setting():
    """The tutorial's chroma_client_auth_token_transport_header: which
    header the token provider sends with it."""
    from chromadb.auth.token_authn import TokenAuthClientProvider
    from chromadb.config import System
    s = Settings(anonymized_telemetry=False, chroma_client_auth_credentials="tok",
                 chroma_client_auth_token_transport_header="X_CHROMA_TOKEN")
    return "sends " + ", ".join(sorted(TokenAuthClientProvider(System(s)).authenticate()))


out = {}
for name, kw in CASES.items():
    try:
        chromadb.HttpClient(host="localhost", port=9, settings=Settings(anonymized_telemetry=False, **kw))
        out[name] = "accepted"
    except Exception as e:  # noqa: BLE001
        out[name] = type(e).__name__ + ": " + str(e)
out["old setting chroma_client_auth_token_transport_header=X_CHROMA_TOKEN"] = old_header_setting()
print(json.dumps(out))
