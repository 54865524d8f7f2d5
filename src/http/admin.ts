/**
 * What every admin route shares (SPEC §6, §9): the JSON body read strictly, the page size of a
 * listing, `no-store` on every answer, one audit line per admin action, and a change to one client
 * answered with its information. The schemas and rules stay in oauth/; routes/admin*.ts (and any
 * new admin route) read, change and log through these.
 */
import type { Context } from "hono";
import { OAuthError } from "../core/errors.js";
import type { ClientRecord } from "../core/client-record.js";
import { applyClientChange, type AppliedChange } from "../oauth/registration/apply.js";
import { clientInformation } from "../oauth/registration/client-information.js";
import { rememberLeftTopologies } from "../oauth/usage-report.js";
import type { AppEnv } from "./app-types.js";
import { background } from "./decision.js";

/** Every admin answer: it may hold client metadata or a freshly issued secret. */
export const NO_STORE = { "Cache-Control": "no-store" } as const;

/** Page size of a listing when `limit` is absent or not a whole number ≥ 1, and its maximum. */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

/** A bad body: 400 `invalid_client_metadata` for RFC 7591 client metadata (§3.2.2), else `invalid_request`. */
const BAD_BODY = {
  client_metadata: { contentType: "admin_content_type", json: "admin_json_invalid" },
  request: { contentType: "admin_request_content_type", json: "admin_request_json_invalid" },
} as const;
export type AdminBody = keyof typeof BAD_BODY;

/**
 * The request's JSON body, not yet validated (the oauth/ schema does that).
 * @param optional an absent body reads as undefined (POST …/secret takes the defaults).
 * @throws OAuthError 400 when the Content-Type is not application/json or the body is not JSON.
 */
export async function readAdminJson(c: Context<AppEnv>, body: AdminBody, { optional = false } = {}): Promise<unknown> {
  if (optional && (c.req.raw.body === null || c.req.header("Content-Length") === "0")) return undefined;
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") throw new OAuthError(BAD_BODY[body].contentType);
  try {
    return await c.req.json();
  } catch {
    throw new OAuthError(BAD_BODY[body].json);
  }
}

/** The listing's `limit` (1 to 100, default 50) and `cursor` query parameters. */
export function listingPage(c: Context<AppEnv>): { limit: number; cursor: string | undefined } {
  const requested = Number(c.req.query("limit") ?? DEFAULT_PAGE_SIZE);
  const limit = Number.isInteger(requested) && requested >= 1 ? Math.min(requested, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  return { limit, cursor: c.req.query("cursor") || undefined };
}

/**
 * One structured line per admin action: what happened to which record, the record's new version
 * in its writer of record and the names of the changed fields. Never a value that could be secret
 * (no secret, sealed secret, key material or token): callers pass identifiers only.
 */
export function audit(event: string, subject: Record<string, unknown>, change?: Pick<AppliedChange<unknown>, "version" | "changed">, details: Record<string, unknown> = {}): void {
  const recorded = change === undefined ? {} : { version: change.version, changed: change.changed };
  console.log(JSON.stringify({ audit: event, ...subject, ...recorded, ...details, at: new Date().toISOString() }));
}

/**
 * A change to the client named in the path (`:client_id`): applied through its writer of record
 * (`mutate` reruns on a newer record after a concurrent change), audited, and answered with the
 * client's information (RFC 7591 §3.2.1), with `secret` once when one was just issued.
 */
export async function answerClientChange(
  c: Context<AppEnv>,
  event: string,
  mutate: (current: ClientRecord | null, now: number) => ClientRecord | null,
  { status = 200, details = {}, secret }: { status?: 200 | 201; details?: Record<string, unknown>; secret?: string } = {},
): Promise<Response> {
  const { stores, clock } = c.get("server");
  const now = clock();
  const change = await applyClientChange(stores.clientWriter, c.req.param("client_id")!, (current) => mutate(current, now));
  const info = clientInformation(change.after!, secret);
  audit(event, { client_id: info.client_id }, change, details);
  // SPEC §11: replay-guard topologies the client left stay readable by its usage report.
  if (change.after !== null) background(c)(rememberLeftTopologies(change.after, stores));
  return c.json(info, status, NO_STORE);
}
