/**
 * The last steps of every grant of the token endpoint (SPEC §11): consume the request's single-use
 * jtis → the quota decision (a quota'd client only) → mint → count the token. Every grant hands its
 * client, its commits and its mint to `issueToken`, so each gets the quota, the usage count and the
 * audit fields without code of its own.
 *
 * Where a token is counted, so a client without a quota pays no round trip for it:
 * - no quota, a jti to commit: in the same step as the jti's first use, in the replay-guard object
 *   that records it (the client's, or a federated issuer's);
 * - no quota, no jti (client_secret_basic/_post, an issuer with `jti_policy: reuse`): in the
 *   client's counter, after the response (`background`, the Worker's waitUntil);
 * - a quota: in the client's counter, by the quota decision itself, after the jtis were consumed.
 *   That is one more round trip, in sequence, for quota'd clients only, and it is what makes the
 *   quota exact: only a request that passed every other check, replay included, reaches the
 *   counter, so nothing but an issued token uses up the quota.
 *
 * A 429 consumes the assertion's jti (the jti is recorded before the counter is asked): the
 * assertion can never yield a token later, and a client retries with a new assertion, as for
 * every request. A count whose token is then not issued (a DPoP proof replayed in parallel, a
 * failed signature) is taken back after the response.
 */
import type { DecisionTrace } from "../core/audit.js";
import type { ClientRecord } from "../core/client-record.js";
import { OAuthError } from "../core/errors.js";
import { quotaExceededDetail, rateLimitHeaders, secondsToReset, type CountedUse, type QuotaDecision, type UsageCount } from "../core/quota.js";
import type { QuotaCounters } from "../stores/quota-counter.js";
import type { MintedAccessToken } from "./access-token.js";

export interface IssuanceDependencies {
  readonly quotaCounters: QuotaCounters;
  /** Run `work` after the response without delaying it (the Worker's `waitUntil`). */
  background(work: Promise<unknown>): void;
}

export interface IssuanceRequest {
  readonly client: ClientRecord;
  readonly now: number;
  /**
   * Consume the jti the token is counted with (the client's assertion, a federated token),
   * counting the token there when `usage` is given.
   * @returns the count to undo, or null when nothing was counted (no jti to record).
   * @throws OAuthError on replay or when the replay guard is down.
   */
  commit(usage: UsageCount | null, background: (work: Promise<unknown>) => void): Promise<CountedUse | null>;
  /** Further single-use jtis of the request (a DPoP proof's), consumed in parallel with `commit`. */
  readonly alsoCommit?: () => Promise<void>;
  /** What the token will say, for the audit line. */
  readonly token: { readonly aud: string; readonly scope: string | undefined };
  mint(): Promise<MintedAccessToken>;
}

export interface IssuedToken {
  readonly minted: MintedAccessToken;
  /** `RateLimit-Policy` and `RateLimit` for a quota'd client (SPEC §11), else empty. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Issue one token: commits, quota, mint, count (module comment).
 * @throws OAuthError `too_many_requests` (429, `Retry-After`, RateLimit headers) over an enforced
 *   quota, and whatever the commits or the mint throw.
 */
export async function issueToken(request: IssuanceRequest, deps: IssuanceDependencies, trace?: DecisionTrace): Promise<IssuedToken> {
  const { client, now } = request;
  const quota = client.token_quota;

  const counted = await commitAll(request, quota === undefined ? { clientId: client.client_id, now } : null, deps);

  let decision: QuotaDecision | undefined;
  let headers: Record<string, string> = {};
  if (quota !== undefined) {
    decision = await deps.quotaCounters.take(client, quota, now);
    if (trace !== undefined) trace.quota = decision.outcome;
    headers = rateLimitHeaders(quota, decision.window, now);
    if (decision.outcome === "exceeded") {
      const refusal = new OAuthError("quota_exceeded", quotaExceededDetail(quota, decision.window));
      refusal.headers = { ...headers, "Retry-After": String(secondsToReset(decision.window, now)) };
      throw refusal;
    }
  }

  let minted: MintedAccessToken;
  try {
    minted = await request.mint();
  } catch (err) {
    // Counted but not issued: take the count back.
    if (decision !== undefined) deps.background(deps.quotaCounters.giveBack(client, quota!, decision, now));
    else if (counted !== null) deps.background(counted.undo());
    throw err;
  }
  // No jti carried the count: count in the client's counter, after the response.
  if (quota === undefined && counted === null) deps.background(deps.quotaCounters.count(client, now, 1));
  if (trace !== undefined) trace.issued = { token_jti: minted.jti, exp: minted.exp, scope: request.token.scope, aud: request.token.aud };
  return { minted, headers };
}

/** Every single-use jti of the request: the grant's (the one counted with), and a DPoP proof's. */
function commitAll(request: IssuanceRequest, usage: UsageCount | null, deps: IssuanceDependencies): Promise<CountedUse | null> {
  if (request.alsoCommit === undefined) return request.commit(usage, deps.background);
  return commitInParallel([request.commit(usage, deps.background), request.alsoCommit().then(() => null)], deps.background);
}

/**
 * Single-use jtis of one request committed in parallel, at most one of them counting the token.
 * Should several fail, the first in `commits` order is reported (the client's assertion before a
 * DPoP proof), so the answer does not depend on which Durable Object replied first; a count made
 * by a commit whose companion failed is taken back after the response.
 * @returns the count to undo, or null.
 */
export async function commitInParallel(commits: readonly Promise<CountedUse | null>[], background: (work: Promise<unknown>) => void): Promise<CountedUse | null> {
  const outcomes = await Promise.allSettled(commits);
  const counted = outcomes.flatMap((o) => (o.status === "fulfilled" && o.value !== null ? [o.value] : []));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed === undefined) return counted[0] ?? null;
  for (const use of counted) background(use.undo());
  throw failed.reason;
}
