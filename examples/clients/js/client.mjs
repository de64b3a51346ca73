// The chromadb JS client (npm install chromadb) through the chroma_auth
// gateway. Credentials go in `headers`: the client's old `auth` option only
// sends an X-Chroma-Token and sends nothing at all for Basic or Bearer.
// Caddy's local CA is trusted by node's NODE_EXTRA_CA_CERTS.
//
//   NODE_EXTRA_CA_CERTS=.run/caddy/pki/authorities/local/root.crt node client.mjs
//
// Env (defaults: the `make run` demo): CHROMA_URL (https://localhost:8443),
// CHROMA_USER and CHROMA_PASSWORD for Basic auth (admin / admin:secret), or
// CHROMA_TOKEN for a token, sent as `Authorization: Bearer` unless
// CHROMA_TOKEN_HEADER=X-Chroma-Token; CHROMA_COLLECTION (demo);
// CHROMA_TENANT and CHROMA_DATABASE for a user the gateway scopes to one
// tenant and database (a ChromaClient does not ask the identity endpoint:
// without them it uses default_tenant and default_database).
import { ChromaClient } from "chromadb";

const url = new URL(process.env.CHROMA_URL ?? "https://localhost:8443");
const name = process.env.CHROMA_COLLECTION ?? "demo";

function authHeaders() {
  const token = process.env.CHROMA_TOKEN;
  if (token) {
    return process.env.CHROMA_TOKEN_HEADER === "X-Chroma-Token"
      ? { "X-Chroma-Token": token }
      : { Authorization: `Bearer ${token}` };
  }
  const user = process.env.CHROMA_USER ?? "admin";
  const password = process.env.CHROMA_PASSWORD ?? "admin:secret";
  return { Authorization: "Basic " + Buffer.from(`${user}:${password}`).toString("base64") };
}

const client = new ChromaClient({
  host: url.hostname,
  port: Number(url.port || 443),
  ssl: url.protocol === "https:",
  headers: authHeaders(),
  tenant: process.env.CHROMA_TENANT, // undefined: default_tenant
  database: process.env.CHROMA_DATABASE, // undefined: default_database
});

console.log("heartbeat:", await client.heartbeat());
console.log("version:", await client.version());

// The gateway has no embedding model: bring your own vectors, or pass an
// embeddingFunction. null keeps the client from looking for its default one.
const collection = await client.createCollection({ name, embeddingFunction: null });
await collection.add({
  ids: ["cats", "cars"],
  embeddings: [[0.9, 0.1, 0.0], [0.0, 0.2, 0.9]],
  documents: ["Cats sleep most of the day.", "Cars need fuel."],
});
const result = await collection.query({ queryEmbeddings: [[1, 0, 0]], nResults: 1 });
console.log("nearest:", result.ids[0][0]);
console.log("count:", await collection.count());
await client.deleteCollection({ name });
console.log("deleted:", name);
