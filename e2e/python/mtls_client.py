"""The Python client (chromadb 1.5.9) presenting a client certificate to
the gateway. chromadb.HttpClient has no setting of its own for one, but it
hands chroma_server_ssl_verify to httpx.Client(verify=...), which takes an
ssl.SSLContext; the setting's declared type is bool | str, so the context
is set after the Settings are made (pydantic checks at construction only).
Run by e2e/cert_python_test.go with the e2e/.venv-1.5 interpreter; prints
one JSON object: each case's result by name.

Env: CHROMA_HOST, CHROMA_PORT, CHROMA_CA (the server's CA root), CASES (a
JSON list of {"name", "cert", "key"}: the client certificate and key of
each run, none when empty), TENANT, DATABASE, COLLECTION (granted: read
it, add to it), HIDDEN (a collection outside the user's grants).
"""

import json
import os
import ssl
import sys

import chromadb
from chromadb.config import Settings


def client(cert, key):
    ctx = ssl.create_default_context(cafile=os.environ["CHROMA_CA"])
    if cert:
        ctx.load_cert_chain(cert, key)
    settings = Settings(anonymized_telemetry=False)
    settings.chroma_server_ssl_verify = ctx
    return chromadb.HttpClient(
        host=os.environ["CHROMA_HOST"], port=int(os.environ["CHROMA_PORT"]), ssl=True,
        tenant=os.environ["TENANT"], database=os.environ["DATABASE"], settings=settings)


def error(e):
    return {"type": type(e).__name__, "message": str(e)}


def run(case):
    out = {}
    try:
        c = client(case["cert"], case["key"])
        out["identity"] = c.get_user_identity().user_id
        col = c.get_collection(os.environ["COLLECTION"], embedding_function=None)
        col.add(ids=["py-" + case["name"]], embeddings=[[0.5, 0.5, 0]])
        out["count"] = col.count()
        out["query"] = col.query(query_embeddings=[[0.5, 0.5, 0]], n_results=1)["ids"][0]
        try:
            c.get_collection(os.environ["HIDDEN"], embedding_function=None)
            out["hidden"] = None
        except Exception as e:  # noqa: BLE001
            out["hidden"] = error(e)
    except Exception as e:  # noqa: BLE001
        out["error"] = error(e)
    return out


def main():
    out = {"chromadb": chromadb.__version__, "cases": {}}
    for case in json.loads(os.environ["CASES"]):
        out["cases"][case["name"]] = run(case)
    json.dump(out, sys.stdout)


main()
