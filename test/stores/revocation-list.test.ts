import { env, listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PURGE_DELAY_MS, PURGE_GRACE_SECONDS } from "../../src/stores/expiring-keys.js";
import { REVOCATION_LIST_SHARDS, revocationList } from "../../src/stores/revocation-list.js";

describe("RevocationList Durable Object", () => {
  it("remembers a revoked jti, and revoking twice is a no-op", async () => {
    const stub = env.REVOCATION_LIST.get(env.REVOCATION_LIST.idFromName("unit-1"));
    const exp = Math.floor(Date.now() / 1000) + 600;
    expect(await stub.isRevoked("jti-a")).toBe(false);
    await stub.revoke("jti-a", exp);
    await stub.revoke("jti-a", exp);
    expect(await stub.isRevoked("jti-a")).toBe(true);
    expect(await stub.isRevoked("jti-b")).toBe(false);
  });

  it("schedules a purge alarm for the earliest expiry when it revokes", async () => {
    const stub = env.REVOCATION_LIST.get(env.REVOCATION_LIST.idFromName("unit-2"));
    const now = Math.floor(Date.now() / 1000);
    await stub.revoke("later", now + 900);
    await stub.revoke("sooner", now + 600);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe((now + 600 + PURGE_GRACE_SECONDS) * 1000 + PURGE_DELAY_MS);
  });

  it("purges rows whose token has expired, by alarm, and keeps the others", async () => {
    const stub = env.REVOCATION_LIST.get(env.REVOCATION_LIST.idFromName("unit-2b"));
    const now = Math.floor(Date.now() / 1000);
    // Rows written straight to the table, so no alarm fires on its own while the test runs (the
    // table is made by the first revocation, and its row is purged with the others).
    await stub.revoke("first", now - 10 - PURGE_GRACE_SECONDS);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("INSERT INTO revoked (key, expires_at) VALUES ('expired', ?), ('live', ?)", now - 10 - PURGE_GRACE_SECONDS, now + 600);
    });
    await runInDurableObject(stub, (instance) => instance.alarm());
    expect(await stub.isRevoked("expired")).toBe(false);
    expect(await stub.isRevoked("live")).toBe(true);
    // The next purge is scheduled for the remaining row.
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe((now + 600 + PURGE_GRACE_SECONDS) * 1000 + PURGE_DELAY_MS);
  });

  it("writes nothing until its first revocation, then stores its schema version", async () => {
    const stub = env.REVOCATION_LIST.get(env.REVOCATION_LIST.idFromName("unit-3"));
    // A read (introspection) makes no storage for an object that never recorded anything.
    expect(await stub.isRevoked("jti")).toBe(false);
    const tables = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray());
    expect(tables).toEqual([]);
    await stub.revoke("jti", Math.floor(Date.now() / 1000) + 60);
    const version = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'schema_version'").one().value,
    );
    expect(version).toBe(1);
  });

  it("the store spreads jtis over its shards and finds them again", async () => {
    const store = revocationList(env.REVOCATION_LIST);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jtis = Array.from({ length: 40 }, () => crypto.randomUUID());
    for (const jti of jtis) await store.revoke(jti, exp);
    for (const jti of jtis) expect(await store.isRevoked(jti)).toBe(true);
    expect(await store.isRevoked(crypto.randomUUID())).toBe(false);
    // 40 random jtis over 16 shards: several objects in use (4 come from the tests above).
    const ids = await listDurableObjectIds(env.REVOCATION_LIST);
    expect(ids.length - 4).toBeGreaterThan(REVOCATION_LIST_SHARDS / 2);
  });
});
