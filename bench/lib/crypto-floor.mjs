/**
 * The crypto floor: what one token costs in pure JOSE work, in Node with jose (WebCrypto), on one
 * core: verify one ES256 client assertion (compact JWS + JSON claims) and sign one ES256 RFC 9068
 * access token. No HTTP, no storage. `inFlight` tokens are computed concurrently, like a server
 * with that many open requests: jose uses WebCrypto, which Node runs on its libuv thread pool, and
 * one-at-a-time awaiting pays a thread hand-off per operation that concurrency amortises.
 * Also measured: the bare primitives (node:crypto, synchronous ECDSA P-256 verify + sign, no JOSE).
 *
 * Usage: node crypto-floor.mjs [seconds=2] [inFlight=32]   (the caller pins it with taskset)
 * Prints one JSON line: { microsPerToken (CPU), tokensPerSecondPerCore, iterations, inFlight,
 *   sequentialMicrosPerToken, primitiveMicrosPerToken }.
 */
import { sign as nodeSign, verify as nodeVerify, generateKeyPairSync } from "node:crypto";
import { compactVerify, exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";

const seconds = Number(process.argv[2] ?? 2);
const inFlight = Number(process.argv[3] ?? 32);

const client = await generateKeyPair("ES256", { extractable: true });
const server = await generateKeyPair("ES256", { extractable: true });
// Import the public key from its JWK, as the service does with a client's registered key.
const clientPublic = await importJWK({ ...(await exportJWK(client.publicKey)) }, "ES256");
const now = Math.floor(Date.now() / 1000);

const assertions = [];
for (let i = 0; i < 1000; i++) {
  assertions.push(
    await new SignJWT({ iss: "bench-client", sub: "bench-client", aud: "https://auth.bench.test", iat: now, exp: now + 120, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "ES256", kid: "client-1" })
      .sign(client.privateKey),
  );
}

const decoder = new TextDecoder();
async function oneToken(i) {
  const { payload } = await compactVerify(assertions[i % assertions.length], clientPublic, { algorithms: ["ES256"] });
  const claims = JSON.parse(decoder.decode(payload));
  return new SignJWT({
    iss: "https://auth.bench.test",
    sub: claims.sub,
    client_id: claims.sub,
    aud: "https://auth.bench.test",
    scope: "read write",
    iat: now,
    exp: now + 3600,
    jti: crypto.randomUUID(),
  })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "bench-1" })
    .sign(server.privateKey);
}

/** CPU µs per token over `ms` milliseconds, `concurrency` tokens at a time. */
async function measure(ms, concurrency) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    const batch = [];
    for (let k = 0; k < concurrency; k++) batch.push(oneToken(n++));
    await Promise.all(batch);
  }
  const cpu = process.cpuUsage(cpu0);
  return { micros: (cpu.user + cpu.system) / n, n };
}

/** The same two operations as bare synchronous node:crypto calls (no JOSE, no WebCrypto). */
function measurePrimitives(ms) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const input = Buffer.from(assertions[0].slice(0, assertions[0].lastIndexOf(".")));
  const signature = nodeSign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 100; k++, n++) {
      if (!nodeVerify("sha256", input, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)) throw new Error("verify failed");
      nodeSign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

await measure(500, inFlight); // warm-up: JIT and OpenSSL caches
const main = await measure(seconds * 1000, inFlight);
const sequential = await measure(Math.max(500, seconds * 250), 1);
const primitiveMicrosPerToken = measurePrimitives(Math.max(500, seconds * 250));

process.stdout.write(
  `${JSON.stringify({
    microsPerToken: main.micros,
    tokensPerSecondPerCore: 1e6 / main.micros,
    iterations: main.n,
    inFlight,
    sequentialMicrosPerToken: sequential.micros,
    primitiveMicrosPerToken,
  })}\n`,
);
