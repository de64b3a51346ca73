"""The auth tutorial's flow with the real Python client (chromadb 1.5.9),
over HTTPS through the gateway, trusting Caddy's local CA by
chroma_server_ssl_verify. Run by e2e/python_client_test.go with the
e2e/.venv-1.5 interpreter; prints one JSON object.

Env: CHROMA_HOST, CHROMA_PORT, CHROMA_CA (the CA root), AUTH (basic, token
or none), CREDENTIALS, TOKEN_HEADER (Authorization or X-Chroma-Token),
TENANT and DATABASE (optional), COLLECTION (the name to use), STEPS
(comma-separated: public, refused, life).
"""

import json
import os
import sys

import chromadb
from chromadb.config import Settings

PROVIDERS = {
    "basic": "chromadb.auth.basic_authn.BasicAuthClientProvider",
    "token": "chromadb.auth.token_authn.TokenAuthClientProvider",
}


def client(auth):
    kw = {"chroma_server_ssl_verify": os.environ["CHROMA_CA"], "anonymized_telemetry": False}
    if auth != "none":
        kw["chroma_client_auth_provider"] = PROVIDERS[auth]
        kw["chroma_client_auth_credentials"] = os.environ["CREDENTIALS"]
        if os.environ.get("TOKEN_HEADER"):
            kw["chroma_auth_token_transport_header"] = os.environ["TOKEN_HEADER"]
    args = {}
    if os.environ.get("TENANT"):
        args["tenant"] = os.environ["TENANT"]
    if os.environ.get("DATABASE"):
        args["database"] = os.environ["DATABASE"]
    return chromadb.HttpClient(
        host=os.environ["CHROMA_HOST"], port=int(os.environ["CHROMA_PORT"]), ssl=True,
        settings=Settings(**kw), **args)


def error(e):
    return {"type": type(e).__name__, "message": str(e)}


def public(out):
    # No credentials: heartbeat and version are public. The client checks
    # its tenant and database at creation, which needs credentials, so a
    # refusal there is the next step's business.
    import httpx
    base = "https://%s:%s" % (os.environ["CHROMA_HOST"], os.environ["CHROMA_PORT"])
    with httpx.Client(verify=os.environ["CHROMA_CA"]) as h:
        out["heartbeat_status"] = h.get(base + "/api/v2/heartbeat").status_code
    try:
        c = client(os.environ.get("AUTH", "none"))
        out["heartbeat"] = c.heartbeat() > 0
        out["version"] = c.get_version()
    except Exception as e:  # noqa: BLE001
        out["public_error"] = error(e)


def refused(out):
    try:
        c = client("none")
        c.list_collections()
        out["refused"] = None
    except Exception as e:  # noqa: BLE001
        out["refused"] = error(e)


def life(out):
    name = os.environ["COLLECTION"]
    c = client(os.environ["AUTH"])
    col = c.create_collection(name, metadata={"step": "created"}, embedding_function=None)
    col.add(ids=["a", "b", "c"], embeddings=[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            documents=["apple", "banana", "cherry"], metadatas=[{"k": 1}, {"k": 2}, {"k": 3}])
    q = col.query(query_embeddings=[[0, 1, 0]], n_results=1)
    out["query"] = q["ids"][0]
    out["get_where"] = sorted(col.get(where={"k": {"$gte": 2}})["ids"])
    col.update(ids=["a"], documents=["apricot"], embeddings=[[1, 0, 0]])
    out["updated"] = col.get(ids=["a"])["documents"]
    col.upsert(ids=["d"], embeddings=[[1, 1, 0]], documents=["date"], metadatas=[{"k": 4}])
    col.delete(ids=["b"])
    out["count"] = col.count()
    col.modify(metadata={"step": "modified"})
    out["metadata"] = c.get_collection(name, embedding_function=None).metadata
    out["listed"] = name in [x.name for x in c.list_collections()]
    c.delete_collection(name)
    out["deleted"] = name not in [x.name for x in c.list_collections()]


def main():
    out = {"chromadb": chromadb.__version__}
    steps = {"public": public, "refused": refused, "life": life}
    for step in os.environ.get("STEPS", "public,refused,life").split(","):
        try:
            steps[step](out)
        except Exception as e:  # noqa: BLE001
            out[step + "_error"] = error(e)
    json.dump(out, sys.stdout)


main()
