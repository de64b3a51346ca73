"""The chromadb Python client (pip install chromadb) through the
chroma_auth gateway, trusting Caddy's local CA by file.

    python client.py

Env (defaults: the `make run` demo): CHROMA_HOST (localhost), CHROMA_PORT
(8443), CHROMA_CA_CERT (.run/caddy/pki/authorities/local/root.crt),
CHROMA_USER and CHROMA_PASSWORD for Basic auth (admin / admin:secret), or
CHROMA_TOKEN for a token, sent as `Authorization: Bearer` unless
CHROMA_TOKEN_HEADER=X-Chroma-Token; CHROMA_COLLECTION (demo); CHROMA_TENANT
and CHROMA_DATABASE (default_tenant, default_database) for a user scoped to
one tenant and database.

The client's own auth settings send exactly what the gateway checks:
chromadb.auth.basic_authn.BasicAuthClientProvider sends
`Authorization: Basic ...`, chromadb.auth.token_authn.TokenAuthClientProvider
sends `Authorization: Bearer ...` or `X-Chroma-Token: ...`. A refused call
raises chromadb.errors.AuthorizationError.
"""

import os

import chromadb
from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings

# ssl=True with a private CA: the client hands chroma_server_ssl_verify to
# httpx as `verify`, so a path to the root certificate trusts it (Chroma's
# CIP "SSL verify client config").
ca_cert = os.environ.get("CHROMA_CA_CERT", ".run/caddy/pki/authorities/local/root.crt")

token = os.environ.get("CHROMA_TOKEN")
if token:
    settings = Settings(
        chroma_server_ssl_verify=ca_cert,
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials=token,
        # "AUTHORIZATION" (Bearer) or "X_CHROMA_TOKEN"
        chroma_auth_token_transport_header=(
            "X_CHROMA_TOKEN"
            if os.environ.get("CHROMA_TOKEN_HEADER") == "X-Chroma-Token"
            else "AUTHORIZATION"
        ),
    )
else:
    user = os.environ.get("CHROMA_USER", "admin")
    password = os.environ.get("CHROMA_PASSWORD", "admin:secret")
    settings = Settings(
        chroma_server_ssl_verify=ca_cert,
        chroma_client_auth_provider="chromadb.auth.basic_authn.BasicAuthClientProvider",
        chroma_client_auth_credentials=f"{user}:{password}",
    )

client = chromadb.HttpClient(
    host=os.environ.get("CHROMA_HOST", "localhost"),
    port=int(os.environ.get("CHROMA_PORT", "8443")),
    ssl=True,
    settings=settings,
    tenant=os.environ.get("CHROMA_TENANT", DEFAULT_TENANT),
    database=os.environ.get("CHROMA_DATABASE", DEFAULT_DATABASE),
)

print("heartbeat:", client.heartbeat())
print("version:", client.get_version())

name = os.environ.get("CHROMA_COLLECTION", "demo")
# The gateway has no embedding model: bring your own vectors.
collection = client.create_collection(name, embedding_function=None)
collection.add(
    ids=["cats", "cars"],
    embeddings=[[0.9, 0.1, 0.0], [0.0, 0.2, 0.9]],
    documents=["Cats sleep most of the day.", "Cars need fuel."],
)
result = collection.query(query_embeddings=[[1.0, 0.0, 0.0]], n_results=1)
print("nearest:", result["ids"][0][0])
print("count:", collection.count())
client.delete_collection(name)
print("deleted:", name)
