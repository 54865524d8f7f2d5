/**
 * The audit trail's decision point (SPEC §11): an audited endpoint (token, introspection,
 * revocation) starts a `DecisionTrace` for its request, the OAuth steps fill it in, and exactly one
 * line is written when the answer is decided — by the route on success, or by the app's error
 * handler on a refusal (app.ts). Nothing else writes audit lines of these endpoints.
 */
import type { Context } from "hono";
import { auditRecord, type AuditEndpoint, type DecisionTrace } from "../core/audit.js";
import type { AppEnv } from "./app-types.js";

/** The trace of this request's decision, kept on the context for the error handler. */
export function startDecision(c: Context<AppEnv>, endpoint: AuditEndpoint): DecisionTrace {
  const trace: DecisionTrace = { endpoint };
  c.set("decision", trace);
  return trace;
}

/**
 * Write the one audit line of this request, if it is an audited one and none was written yet.
 * @returns whether a line was written.
 */
export function finishDecision(c: Context<AppEnv>, outcome: { readonly status: number; readonly reason?: string }): boolean {
  const trace = c.get("decision");
  if (trace === undefined) return false;
  c.set("decision", undefined);
  const server = c.get("server");
  server.stores.audit.write(auditRecord(trace, outcome, server.clock()));
  return true;
}

/** The Worker's `waitUntil`, for work after the response (usage counts); it never rejects. */
export function background(c: Context<AppEnv>): (work: Promise<unknown>) => void {
  return (work) => c.executionCtx.waitUntil(work.catch(() => {}));
}
