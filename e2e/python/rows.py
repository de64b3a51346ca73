"""Row-level security (issue 23) with the real Python client (chromadb
1.5.9) through the gateway: one identity's step on a collection others
share. Run by e2e/rows_clients_test.go with the e2e/.venv-1.5 interpreter;
prints one JSON object.

Env: CHROMA_HOST, CHROMA_PORT, CHROMA_CA, CREDENTIALS (a token sent in
Authorization: Bearer), TENANT, DATABASE, COLLECTION, ME and OTHER (record
id prefixes), STEP:
  write    adds ME-1 (k = x), ME-2 (no metadata), upserts ME-3 (k = y)
  read     get, get by ids (one's own and another's), get with where, peek,
           count, query, search (Chroma 1.5: its single-node
           server does not run searches); update and upsert of one's own
  refused  a record claiming another owner, an update and an upsert of
           another's record, an owner change, a delete and a rename of the
           collection
  delete   deletes ME-3 and OTHER-3 by id, then where k = "x"
"""

import json
import os

import chromadb
from chromadb.config import Settings

env = os.environ
me, other = env["ME"], env["OTHER"]
client = chromadb.HttpClient(
    host=env["CHROMA_HOST"], port=int(env["CHROMA_PORT"]), ssl=True,
    tenant=env["TENANT"], database=env["DATABASE"],
    settings=Settings(
        chroma_server_ssl_verify=env["CHROMA_CA"], anonymized_telemetry=False,
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials=env["CREDENTIALS"],
        chroma_auth_token_transport_header="Authorization"))


def attempt(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001
        return "%s: %s" % (type(e).__name__, e)


def owners(r):
    return {i: (m or {}).get("owner") for i, m in zip(r["ids"], r["metadatas"])}


c = client.get_collection(env["COLLECTION"])
out = {}
step = env["STEP"]
if step == "write":
    c.add(ids=[me + "-1"], embeddings=[[0.1, 0.2, 0.3]], metadatas=[{"k": "x"}], documents=["one"])
    c.add(ids=[me + "-2"], embeddings=[[0, 1, 0]], documents=["two"])
    c.upsert(ids=[me + "-3"], embeddings=[[1, 0, 1]], metadatas=[{"k": "y"}])
    out["written"] = True
elif step == "read":
    out["all"] = owners(c.get(include=["metadatas"]))
    out["byIds"] = owners(c.get(ids=[me + "-1", other + "-1"], include=["metadatas"]))
    out["where"] = owners(c.get(where={"k": "x"}, include=["metadatas"]))
    out["peek"] = sorted(c.peek(limit=10)["ids"])
    out["count"] = c.count()
    out["query"] = sorted(c.query(query_embeddings=[[0.1, 0.2, 0.3]], n_results=10)["ids"][0])
    if env.get("SEARCH"):
        from chromadb import Knn, Search
        # Chroma 1.5.9's single-node server parses a search and then answers
        # "not implemented for local executor"; the answer shows the
        # gateway's rewritten body reached it as a valid search.
        out["search"] = attempt(lambda: c.search(Search().rank(Knn(query=[0.1, 0.2, 0.3])).limit(10)))
    c.update(ids=[me + "-2"], metadatas=[{"k": "z"}])
    c.upsert(ids=[me + "-1"], embeddings=[[0.1, 0.2, 0.3]], metadatas=[{"k": "x", "v": 2}])
    got = c.get(ids=[me + "-1", me + "-2"], include=["metadatas"])
    out["afterWrite"] = sorted(m["k"] for m in got["metadatas"])
elif step == "refused":
    out["addClaimingOther"] = attempt(lambda: c.add(ids=[me + "-9"], embeddings=[[0, 0, 0]], metadatas=[{"owner": "bob"}]))
    out["updateOthers"] = attempt(lambda: c.update(ids=[other + "-1"], metadatas=[{"k": "mine now"}]))
    out["upsertOthers"] = attempt(lambda: c.upsert(ids=[me + "-9", other + "-1"], embeddings=[[0, 0, 0], [0, 0, 0]]))
    out["changeOwner"] = attempt(lambda: c.update(ids=[me + "-1"], metadatas=[{"owner": "bob"}]))
    out["deleteCollection"] = attempt(lambda: client.delete_collection(env["COLLECTION"]))
    out["rename"] = attempt(lambda: c.modify(name=env["COLLECTION"] + "-mine"))
elif step == "delete":
    c.delete(ids=[me + "-3", other + "-3"])
    c.delete(where={"k": "x"})
    out["left"] = sorted(c.get()["ids"])
else:
    raise SystemExit("unknown STEP " + step)
print(json.dumps(out))
