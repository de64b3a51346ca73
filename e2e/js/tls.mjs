// Whether node trusts the gateway's certificate: the chromadb client's
// heartbeat, and node's own fetch for the underlying reason (the chromadb
// client hides it behind ChromaConnectionError). Printed as one JSON object
// for tls_test.go. Trust comes only from NODE_EXTRA_CA_CERTS.
//
// Env: GATEWAY_PORT.
import { ChromaClient } from "chromadb";

const port = Number(process.env.GATEWAY_PORT);
const out = {};
try {
  out.heartbeat = await new ChromaClient({ host: "localhost", port, ssl: true }).heartbeat();
} catch (e) {
  out.clientError = e?.name;
}
try {
  const res = await fetch(`https://localhost:${port}/api/v2/heartbeat`);
  out.fetchStatus = res.status;
} catch (e) {
  out.fetchCause = e?.cause?.code ?? String(e?.cause ?? e);
}
console.log(JSON.stringify(out));
