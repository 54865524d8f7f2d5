/**
 * The RFC 8693 §4.1 actor chain rule shared by the server and the `./resource` verifier (SPEC §13).
 */
import { describe, expect, it } from "vitest";
import { actorDepth, MAX_ACT_DEPTH } from "../../src/core/actor-chain.js";

const chain = (depth: number): Record<string, unknown> | undefined => (depth === 0 ? undefined : { sub: `actor-${depth}`, ...(depth > 1 ? { act: chain(depth - 1)! } : {}) });

describe("actor chains", () => {
  it("actorDepth reads only actor chains", () => {
    expect(actorDepth(undefined)).toBe(0);
    expect(actorDepth({ sub: "a" })).toBe(1);
    expect(actorDepth({ sub: 1 })).toBeUndefined();
    expect(actorDepth({ sub: "a", act: "b" })).toBeUndefined();
    expect(actorDepth(chain(MAX_ACT_DEPTH + 1))).toBeUndefined();
  });
});
