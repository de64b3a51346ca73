// Every call of the real chromadb JS client with wrong or no credentials,
// printed as one JSON object (call -> error class) for the Go test
// (jsclient_test.go) to check; the Go test then asks Chroma directly that
// nothing was written.
//
// Env: GATEWAY_PORT, CHROMA_HEADERS (JSON, {} for none), FIXTURE_NAME and
// FIXTURE_ID (a collection the Go test made), NEW_COLLECTION (a name that
// must not come to exist).
import { ChromaClient, ChromaUnauthorizedError } from "chromadb";

const port = Number(process.env.GATEWAY_PORT);
const headers = JSON.parse(process.env.CHROMA_HEADERS);
const fixture = process.env.FIXTURE_NAME;
const fixtureId = process.env.FIXTURE_ID;
const newName = process.env.NEW_COLLECTION;

// tenant and database are given so that client.collection(id) makes a
// handle without a request: the calls on it are the ones under test.
const client = new ChromaClient({
  host: "localhost", port, ssl: true, headers,
  tenant: "default_tenant", database: "default_database",
});
const handle = client.collection(fixtureId);

const out = { public: {}, refused: {} };
out.public.heartbeat = typeof (await client.heartbeat());
out.public.version = await client.version();

const calls = {
  createCollection: () => client.createCollection({ name: newName, embeddingFunction: null }),
  getCollection: () => client.getCollection({ name: fixture }),
  listCollections: () => client.listCollections(),
  countCollections: () => client.countCollections(),
  add: () => handle.add({ ids: ["intruder"], embeddings: [[0, 0, 1]], documents: ["intruder"] }),
  query: () => handle.query({ queryEmbeddings: [[1, 0, 0]], nResults: 1 }),
  count: () => handle.count(),
  delete: () => handle.delete({ ids: ["a"] }),
  deleteCollection: () => client.deleteCollection({ name: fixture }),
};
for (const [call, fn] of Object.entries(calls)) {
  try {
    await fn();
    out.refused[call] = "no error";
  } catch (e) {
    // The class the client raises for a 401, or what it raised instead.
    out.refused[call] = e instanceof ChromaUnauthorizedError ? "ChromaUnauthorizedError" : `${e?.name}: ${e?.message}`;
  }
}

// An identity call without tenant/database, as a client started with only
// credentials makes first.
const bare = new ChromaClient({ host: "localhost", port, ssl: true, headers });
try {
  await bare.listCollections();
  out.refused.identity = "no error";
} catch (e) {
  out.refused.identity = e instanceof ChromaUnauthorizedError ? "ChromaUnauthorizedError" : `${e?.name}: ${e?.message}`;
}
console.log(JSON.stringify(out));
