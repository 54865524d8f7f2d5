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
import { evaluateFederatedAssertion, issuerOf, type FederationDependencies, type FederationSettings } from "./federated-assertion.js";

export interface ExplainAnswer {
  /** The name of the credential that matched, or null. */
  matched: string | null;
  /** The assertion's issuer as found (its `iss`, or a JWT-SVID's trust domain). */
  issuer: string | null;
  /** Why no credential could be tried at all (unknown issuer, signature, exp…), if so. */
  failure?: { rule: string; description: string };
  credentials: Array<{ name: string; result: string; description?: string }>;
}

const ExplainSchema = z.strictObject({ assertion: z.string().check(z.minLength(1), z.maxLength(16 * 1024)) });

/**
 * Explain `input.assertion` against the federated credentials of `client`.
 * @throws OAuthError invalid_client_metadata for a body without an assertion.
 */
export async function explainFederatedAssertion(
  input: unknown,
  client: ClientRecord,
  deps: FederationDependencies,
  settings: Omit<FederationSettings, "spiffeAssertionType">,
): Promise<ExplainAnswer> {
  const { assertion } = parseOrThrow(ExplainSchema, input);
  const credentials = client.federated_credentials ?? [];
  let parsed;
  try {
    parsed = parseClientAssertion(assertion);
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    const failure = { rule: err.reason, description: err.description };
    return { matched: null, issuer: null, failure, credentials: credentials.map((c) => ({ name: c.name, result: failure.rule, description: failure.description })) };
  }
  // SPEC §9: a disabled client authenticates with nothing; explain says so rather than "match".
  if (client.disabled) {
    const failure = clientAuthFailed("federated_client_disabled");
    return {
      matched: null,
      issuer: issuerOf(parsed.unverifiedClaims) ?? null,
      failure: { rule: failure.reason, description: failure.description },
      credentials: credentials.map((c) => ({ name: c.name, result: failure.reason, description: failure.description })),
    };
  }
  const evaluation = await evaluateFederatedAssertion(parsed, client, deps, { ...settings, spiffeAssertionType: false });
  const byName = new Map(evaluation.credentials.map((outcome) => [outcome.credential.name, outcome]));
  const answer: ExplainAnswer = {
    matched: null,
    issuer: issuerOf(parsed.unverifiedClaims) ?? null,
    credentials: credentials.map((credential) => {
      const failure = byName.get(credential.name)?.failure;
      return failure === undefined ? { name: credential.name, result: "match" } : { name: credential.name, result: failure.reason, description: failure.description };
    }),
  };
  if (evaluation.failure) answer.failure = { rule: evaluation.failure.reason, description: evaluation.failure.description };
  answer.matched = evaluation.failure ? null : (answer.credentials.find((c) => c.result === "match")?.name ?? null);
  return answer;
}
