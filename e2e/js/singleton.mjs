// The real chromadb ChromaClient (not CloudClient) given only a credential
// in `headers`, no tenant or database: it addresses Chroma's defaults,
// default_tenant / default_database, without asking who it is. Printed as
// one JSON object for singleton_test.go.
//
// Env: GATEWAY_PORT, CHROMA_HEADERS (JSON), CREATE (a collection name).
import { ChromaClient, ChromaForbiddenError } from "chromadb";

const port = Number(process.env.GATEWAY_PORT);
const name = process.env.CREATE;
const client = new ChromaClient({
  host: "localhost", port, ssl: true,
  headers: JSON.parse(process.env.CHROMA_HEADERS),
});
// What the client believes it addresses.
const out = { tenant: client.tenant, database: client.database };
try {
  const c = await client.createCollection({ name, embeddingFunction: null });
  out.created = c.id;
  await c.add({ ids: ["one", "two"], embeddings: [[1, 0, 0], [0, 1, 0]] });
  out.count = await c.count();
  out.nearest = (await c.query({ queryEmbeddings: [[0.1, 0.9, 0]], nResults: 1 })).ids[0];
  out.gotId = (await client.getCollection({ name })).id;
  out.listed = (await client.listCollections()).map((x) => x.name);
} catch (e) {
  out.error = e instanceof ChromaForbiddenError ? "ChromaForbiddenError" : `${e?.name}: ${e?.message}`;
}
console.log(JSON.stringify(out));
