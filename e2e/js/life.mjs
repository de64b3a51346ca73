// The life of a collection through the gateway with the real chromadb JS
// client and good credentials, printed as one JSON object for the Go test
// (jsclient_test.go) to check.
//
// Env: GATEWAY_PORT (HTTPS on localhost), CHROMA_HEADERS (JSON object with
// the credential header), COLLECTION (name to create). Trust for Caddy's
// local CA comes from NODE_EXTRA_CA_CERTS.
import { ChromaClient } from "chromadb";

const port = Number(process.env.GATEWAY_PORT);
const headers = JSON.parse(process.env.CHROMA_HEADERS);
const name = process.env.COLLECTION;

// Heartbeat and version need no credentials: a client without headers.
const anonymous = new ChromaClient({ host: "localhost", port, ssl: true });
const out = {
  heartbeat: await anonymous.heartbeat(),
  version: await anonymous.version(),
};

// No tenant or database given: the client asks GET /api/v2/auth/identity
// first, through the gateway, as users' code does.
const client = new ChromaClient({ host: "localhost", port, ssl: true, headers });
// embeddingFunction: null, so the client never looks for a model package.
const collection = await client.createCollection({ name, embeddingFunction: null });
out.id = collection.id;
await collection.add({
  ids: ["north", "east", "up"],
  embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  documents: ["points north", "points east", "points up"],
});
out.countAfterAdd = await collection.count();
const res = await collection.query({ queryEmbeddings: [[0.1, 0.9, 0]], nResults: 1 });
out.nearest = res.ids[0];
await collection.delete({ ids: ["north"] });
out.countAfterDelete = await collection.count();
out.namesBeforeDrop = (await client.listCollections()).map((c) => c.name).filter((n) => n === name);
await client.deleteCollection({ name });
out.namesAfterDrop = (await client.listCollections()).map((c) => c.name).filter((n) => n === name);
console.log(JSON.stringify(out));
