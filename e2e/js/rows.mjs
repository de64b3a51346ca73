// Row-level security (issue 23) through the gateway with the real chromadb
// JS client: one identity's step on a collection others share, printed as
// one JSON object for rows_clients_test.go.
//
// Env: GATEWAY_PORT, CHROMA_HEADERS (JSON), TENANT, DATABASE, COLLECTION,
// ME and OTHER (record id prefixes), STEP:
//   write    adds ME-1, ME-2 (one without metadata), upserts ME-3
//   read     get, get by ids (one's own and another's), get with where,
//            peek, count, query; update and upsert of one's own record
//   refused  a record claiming another owner, an update and an upsert of
//            another's record, a delete and a rename of the collection
//   delete   deletes ME-3 and OTHER-3 by id, then where k = "x"
import { ChromaClient, ChromaForbiddenError } from "chromadb";

const env = process.env;
const client = new ChromaClient({
  host: "localhost", port: Number(env.GATEWAY_PORT), ssl: true,
  headers: JSON.parse(env.CHROMA_HEADERS), tenant: env.TENANT, database: env.DATABASE,
});
const me = env.ME, other = env.OTHER;
const attempt = async (fn) => {
  try {
    await fn();
    return "ok";
  } catch (e) {
    return e instanceof ChromaForbiddenError ? "ChromaForbiddenError" : `${e?.name}: ${e?.message}`;
  }
};
const owners = (r) => Object.fromEntries(r.ids.map((id, i) => [id, r.metadatas[i]?.owner ?? null]));

const c = await client.getCollection({ name: env.COLLECTION, embeddingFunction: null });
const out = {};
switch (env.STEP) {
  case "write":
    await c.add({ ids: [`${me}-1`, `${me}-2`], embeddings: [[0.1, 0.2, 0.3], [0, 1, 0]], metadatas: [{ k: "x" }, null], documents: ["one", "two"] });
    await c.upsert({ ids: [`${me}-3`], embeddings: [[1, 0, 1]], metadatas: [{ k: "y" }] });
    out.written = true;
    break;
  case "read": {
    out.all = owners(await c.get({ include: ["metadatas"] }));
    out.byIds = owners(await c.get({ ids: [`${me}-1`, `${other}-1`], include: ["metadatas"] }));
    out.where = owners(await c.get({ where: { k: "x" }, include: ["metadatas"] }));
    out.peek = (await c.peek({ limit: 10 })).ids.sort();
    out.count = await c.count();
    out.query = (await c.query({ queryEmbeddings: [[0.1, 0.2, 0.3]], nResults: 10 })).ids[0].sort();
    await c.update({ ids: [`${me}-2`], metadatas: [{ k: "z" }] });
    await c.upsert({ ids: [`${me}-1`], embeddings: [[0.1, 0.2, 0.3]], metadatas: [{ k: "x", v: 2 }] });
    out.afterWrite = (await c.get({ ids: [`${me}-1`, `${me}-2`], include: ["metadatas"] })).metadatas.map((m) => m.k).sort();
    break;
  }
  case "refused":
    out.addClaimingOther = await attempt(() => c.add({ ids: [`${me}-9`], embeddings: [[0, 0, 0]], metadatas: [{ owner: "bob" }] }));
    out.updateOthers = await attempt(() => c.update({ ids: [`${other}-1`], metadatas: [{ k: "mine now" }] }));
    out.upsertOthers = await attempt(() => c.upsert({ ids: [`${me}-9`, `${other}-1`], embeddings: [[0, 0, 0], [0, 0, 0]] }));
    out.changeOwner = await attempt(() => c.update({ ids: [`${me}-1`], metadatas: [{ owner: "bob" }] }));
    out.deleteCollection = await attempt(() => client.deleteCollection({ name: env.COLLECTION }));
    out.rename = await attempt(() => c.modify({ name: `${env.COLLECTION}-mine` }));
    break;
  case "delete":
    await c.delete({ ids: [`${me}-3`, `${other}-3`] });
    await c.delete({ where: { k: "x" } });
    out.left = (await c.get({})).ids.sort();
    break;
  default:
    throw new Error(`unknown STEP ${env.STEP}`);
}
console.log(JSON.stringify(out));
