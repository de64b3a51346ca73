// A user scoped to one tenant and database, through the gateway, printed
// as one JSON object for authz_test.go.
//
// CLIENT=cloud: the chromadb CloudClient pointed at the gateway, with only
// a token (it sends X-Chroma-Token) and no tenant or database: it asks GET
// /api/v2/auth/identity, which the gateway answers, where it lands.
// Otherwise: a ChromaClient with CHROMA_HEADERS and the TENANT and DATABASE
// given (a ChromaClient never asks: it defaults to default_tenant and
// default_database).
//
// Env: GATEWAY_PORT, CHROMA_HEADERS (JSON) or TOKEN, TENANT, DATABASE;
// CREATE (a collection name to create), or ADD_TO (a collection name to
// get, count and try to add to).
import { ChromaClient, CloudClient, ChromaForbiddenError } from "chromadb";

const port = Number(process.env.GATEWAY_PORT);
const client =
  process.env.CLIENT === "cloud"
    ? new CloudClient({ host: "localhost", port, apiKey: process.env.TOKEN })
    : new ChromaClient({
        host: "localhost", port, ssl: true,
        headers: JSON.parse(process.env.CHROMA_HEADERS),
        tenant: process.env.TENANT, database: process.env.DATABASE,
      });

const errorName = (e) => (e instanceof ChromaForbiddenError ? "ChromaForbiddenError" : `${e?.name}: ${e?.message}`);
const out = {};
if (process.env.CREATE) {
  const c = await client.createCollection({ name: process.env.CREATE, embeddingFunction: null });
  out.created = c.id;
}
if (process.env.ADD_TO) {
  const c = await client.getCollection({ name: process.env.ADD_TO });
  out.count = await c.count();
  try {
    await c.add({ ids: ["intruder"], embeddings: [[0, 0, 1]] });
    out.add = "no error";
  } catch (e) {
    out.add = errorName(e);
  }
}
out.tenant = client.tenant;
out.database = client.database;
console.log(JSON.stringify(out));
