// The Node-side harness itself: the Worker started as `wrangler dev` answers as in local dev.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startLocalWorker, type LocalWorker } from "./support/local-worker.js";
import { PORTS } from "./support/ports.js";

let worker: LocalWorker;
beforeAll(async () => {
  worker = await startLocalWorker({ port: PORTS.localWorker });
});
afterAll(() => worker?.stop());

test("wrangler dev serves the discovery document with its loopback issuer", async () => {
  const res = await fetch(`${worker.url}/.well-known/oauth-authorization-server`);
  expect(res.status).toBe(200);
  const metadata = (await res.json()) as { issuer: string; token_endpoint: string };
  expect(metadata.token_endpoint).toBe(`${metadata.issuer}/oauth2/token`);
  expect(new URL(metadata.issuer).hostname).toMatch(/^(127\.0\.0\.1|localhost)$/);
});
