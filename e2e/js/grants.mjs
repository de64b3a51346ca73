// A collection-restricted user (issue 13) through the gateway with the
// real chromadb JS client, printed as one JSON object for grants_test.go.
//
// Env: GATEWAY_PORT, CHROMA_HEADERS (JSON), TENANT, DATABASE, ROLE:
//   reader  lists a page (LIMIT, OFFSET) and counts, reads READ, tries to add to it
//   writer  adds to WRITE, tries to add to READ and to delete WRITE
//   admin   creates CREATE, renames it to RENAME, tries to rename it to
//           OUTSIDE and to create OUTSIDE, then deletes RENAME
import { ChromaClient, ChromaForbiddenError } from "chromadb";

const env = process.env;
const client = new ChromaClient({
  host: "localhost", port: Number(env.GATEWAY_PORT), ssl: true,
  headers: JSON.parse(env.CHROMA_HEADERS), tenant: env.TENANT, database: env.DATABASE,
});

const errorName = (e) => (e instanceof ChromaForbiddenError ? "ChromaForbiddenError" : `${e?.name}: ${e?.message}`);
const attempt = async (fn) => {
  try {
    await fn();
    return "ok";
  } catch (e) {
    return errorName(e);
  }
};

const out = {};
switch (env.ROLE) {
  case "reader": {
    const page = await client.listCollections({ limit: Number(env.LIMIT), offset: Number(env.OFFSET) });
    out.page = page.map((c) => c.name);
    out.all = (await client.listCollections()).map((c) => c.name).sort();
    out.count = await client.countCollections();
    const c = await client.getCollection({ name: env.READ });
    out.readCount = await c.count();
    const q = await c.query({ queryEmbeddings: [[0, 1, 0]], nResults: 1 });
    out.nearest = q.ids[0];
    out.add = await attempt(() => c.add({ ids: ["js-intruder"], embeddings: [[0, 0, 1]] }));
    break;
  }
  case "writer": {
    const w = await client.getCollection({ name: env.WRITE });
    out.add = await attempt(() => w.add({ ids: ["js-written"], embeddings: [[0, 0, 1]] }));
    out.writeCount = await w.count();
    const r = await client.getCollection({ name: env.READ });
    out.addToRead = await attempt(() => r.add({ ids: ["js-intruder"], embeddings: [[0, 0, 1]] }));
    out.deleteCollection = await attempt(() => client.deleteCollection({ name: env.WRITE }));
    break;
  }
  case "admin": {
    const c = await client.createCollection({ name: env.CREATE, embeddingFunction: null, metadata: { by: "js" } });
    out.created = c.id;
    out.rename = await attempt(() => c.modify({ name: env.RENAME }));
    out.renameOutside = await attempt(() => c.modify({ name: env.OUTSIDE }));
    out.createOutside = await attempt(() => client.createCollection({ name: env.OUTSIDE, embeddingFunction: null }));
    out.delete = await attempt(() => client.deleteCollection({ name: env.RENAME }));
    break;
  }
  default:
    throw new Error(`unknown ROLE ${env.ROLE}`);
}
console.log(JSON.stringify(out));
