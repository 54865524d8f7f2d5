/**
 * Explain (SPEC §9): which federated credential of a client a token would match, or for each the
 * rule that failed, without consuming its jti and without issuing anything. Operators debug trust
 * rules with it before a pipeline fails.
 */
import type { ClientRecord } from "../../core/client-record.js";
import * as z from "../../zod.js";
import { parseClientAssertion } from "../client-auth/assertion.js";
import { clientAuthFailed } from "../client-auth/failures.js";
import { parseOrThrow } from "../registration/invalid-metadata.js";
import { OAuthError } from "../../core/errors.js";
import { credentialAllows } from "../../core/federation.js";
import { evaluateJwtBearerAssertion, selectJwtBearerMatch, type JwtBearerDependencies } from "../grants/jwt-bearer.js";
import { evaluateFederatedAssertion, issuerOf, type FederationDependencies, type FederationSettings } from "./federated-assertion.js";

export interface ExplainAnswer {
  /** The name of the credential that matched, or null. */
  matched: string | null;
  /** The assertion's issuer as found (its `iss`, or a JWT-SVID's trust domain). */
  issuer: string | null;
  /** Why no credential could be tried at all (unknown issuer, signature, exp…), if so. */
  failure?: { rule: string; description: string };
  credentials: Array<{ name: string; result: string; description?: string }>;
  /**
   * SPEC §13: the same token as the JWT bearer grant's `assertion`: the credential of this client it
   * would get a token through (only when it is the one match across all clients), why not, each
   * credential's result under the grant's rules, and other clients whose credentials match too.
   */
  jwt_bearer: {
    matched: string | null;
    failure?: { rule: string; description: string };
    credentials: Array<{ name: string; result: string; description?: string }>;
    other_clients: string[];
  };
}

/** The explain result of a credential whose grants omit jwt_bearer. */
const GRANT_NOT_ALLOWED = { result: "grant_not_allowed", description: "the credential's grants omit jwt_bearer" };

const ExplainSchema = z.strictObject({ assertion: z.string().check(z.minLength(1), z.maxLength(16 * 1024)) });

/**
 * Explain `input.assertion` against the federated credentials of `client`.
 * @throws OAuthError invalid_client_metadata for a body without an assertion.
 */
export async function explainFederatedAssertion(
  input: unknown,
  client: ClientRecord,
  deps: FederationDependencies & Pick<JwtBearerDependencies, "clients" | "jwtBearerClients">,
  settings: Omit<FederationSettings, "spiffeAssertionType"> & { readonly endpointUrl: string },
): Promise<ExplainAnswer> {
  const { assertion } = parseOrThrow(ExplainSchema, input);
  const credentials = client.federated_credentials ?? [];
  let parsed;
  try {
    parsed = parseClientAssertion(assertion);
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    const failure = { rule: err.reason, description: err.description };
    const all = credentials.map((c) => ({ name: c.name, result: failure.rule, description: failure.description }));
    return { matched: null, issuer: null, failure, credentials: all, jwt_bearer: { matched: null, failure, credentials: all, other_clients: [] } };
  }
  // SPEC §9: a disabled client authenticates with nothing; explain says so rather than "match".
  if (client.disabled) {
    const { reason: rule, description } = clientAuthFailed("federated_client_disabled");
    const all = credentials.map((c) => ({ name: c.name, result: rule, description }));
    const failure = { rule, description };
    return { matched: null, issuer: issuerOf(parsed.unverifiedClaims) ?? null, failure, credentials: all, jwt_bearer: { matched: null, failure, credentials: all, other_clients: [] } };
  }
  const evaluation = await evaluateFederatedAssertion(parsed, client, deps, { ...settings, spiffeAssertionType: false });
  const byName = new Map(evaluation.credentials.map((outcome) => [outcome.credential.name, outcome]));
  const answer: Omit<ExplainAnswer, "jwt_bearer"> = {
    matched: null,
    issuer: issuerOf(parsed.unverifiedClaims) ?? null,
    credentials: credentials.map((credential) => {
      const failure = byName.get(credential.name)?.failure;
      return failure === undefined ? { name: credential.name, result: "match" } : { name: credential.name, result: failure.reason, description: failure.description };
    }),
  };
  if (evaluation.failure) answer.failure = { rule: evaluation.failure.reason, description: evaluation.failure.description };
  answer.matched = evaluation.failure ? null : (answer.credentials.find((c) => c.result === "match")?.name ?? null);
  return { ...answer, jwt_bearer: await explainJwtBearer(parsed, client, deps, settings) };
}

/** The JWT bearer grant's view of the token (SPEC §13), for `client`'s credentials and across all clients. */
async function explainJwtBearer(
  parsed: ReturnType<typeof parseClientAssertion>,
  client: ClientRecord,
  deps: Parameters<typeof explainFederatedAssertion>[2],
  settings: Parameters<typeof explainFederatedAssertion>[3],
): Promise<ExplainAnswer["jwt_bearer"]> {
  const evaluation = await evaluateJwtBearerAssertion(parsed, deps, settings);
  const mine = new Map(evaluation.candidates.filter((c) => c.client.client_id === client.client_id).map((c) => [c.credential.name, c]));
  const fallback = evaluation.failure ?? new OAuthError("federated_credential_other_issuer");
  const credentials = (client.federated_credentials ?? []).map((credential) => {
    if (!credentialAllows(credential, "jwt_bearer")) return { name: credential.name, ...GRANT_NOT_ALLOWED };
    const failure = mine.has(credential.name) ? mine.get(credential.name)!.failure : fallback;
    return failure === undefined ? { name: credential.name, result: "match" } : { name: credential.name, result: failure.reason, description: failure.description };
  });
  const others = evaluation.candidates.filter((c) => c.failure === undefined && c.client.client_id !== client.client_id).map((c) => c.client.client_id);
  let matched: string | null = null;
  let failure: { rule: string; description: string } | undefined;
  try {
    const match = selectJwtBearerMatch(evaluation, client.client_id);
    matched = match.credential.name;
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    failure = { rule: err.reason, description: err.description };
  }
  return { matched, ...(failure ? { failure } : {}), credentials, other_clients: [...new Set(others)] };
}
