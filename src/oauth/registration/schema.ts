/**
 * The schema of client registrations sent to the management API (SPEC §6, RFC 7591 §2 names):
 * the first step of every registration change (parse → mutate → apply → audit, routes/admin.ts).
 * Bad input is refused with the field named; keys that are too weak, private key material,
 * `jwks_uri`s this server would not fetch (core/addresses.js), two keys with one `kid`, and keys
 * that cannot verify the registered algorithm are refused at registration.
 */
import { SCOPE_TOKEN_CHARS } from "../grants/client-credentials.js";
import * as z from "../../zod.js";
import { FederatedCredentialsSchema } from "../federation/credential-schema.js";
import { DEFAULT_REPLAY_GUARD_SHARDS, MAX_REPLAY_GUARD_SHARDS } from "../../stores/replay-topology.js";
import { REPLAY_GUARD_LOCATIONS } from "../../core/client-record.js";
import { QUOTA_LIMIT_MAX, QUOTA_LIMIT_MIN, QUOTA_MODES, QUOTA_WINDOW_MAX_SECONDS, QUOTA_WINDOW_MIN_SECONDS } from "../../core/quota.js";
import { CLIENT_CREDENTIALS_GRANT } from "../../core/protocol.js";
import {
  CLIENT_SECRET_JWT_ALGS,
  isAsymmetricAlg,
  isHmacAlg,
  keyTypeFits,
  PRIVATE_KEY_JWT_ALGS,
  sameAlgorithm,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from "../../core/algorithms.js";
import { PublicJwkSchema } from "../../core/jwk-set.js";

const isScalar = (value: unknown) => value === null || ["string", "number", "boolean"].includes(typeof value);
/** A JWK member value of at most one level: a scalar, or an array of scalars (as `x5c`, `key_ops`). */
const isFlat = (value: unknown) => isScalar(value) || (Array.isArray(value) && value.every(isScalar));

/**
 * A public signing JWK of a client (core/jwk-set.ts, judged by core/algorithms.js). Members this
 * server does not know are stored as given, so they must stay flat: a deeply nested value would
 * otherwise fail deep in storage (issue 18: a 503 instead of a 400 naming the member).
 */
export const ClientJwkSchema = PublicJwkSchema.check(
  z.superRefine((jwk, ctx) => {
    for (const [member, value] of Object.entries(jwk)) {
      if (!isFlat(value)) ctx.addIssue({ code: "custom", message: "an unknown JWK member may hold only a string, number, boolean or null, or a list of them", path: [member] });
    }
  }),
);

/** An empty list or space-separated scope tokens (RFC 6749 §3.3). */
const SCOPE_LIST = new RegExp(`^(${SCOPE_TOKEN_CHARS}+( ${SCOPE_TOKEN_CHARS}+)*)?$`);

const resourceUri = z.string().check(z.refine((v) => URL.canParse(v) && !v.includes("#"), "must be an absolute URI without a fragment"));

// The URL's shape; whether its address may be fetched is the address policy's question (input.ts).
const httpsUrl = z.string().check(
  z.maxLength(2048),
  z.refine((v) => URL.canParse(v) && ["https:", "http:"].includes(new URL(v).protocol), "must be an https:// URL"),
);

/** SPEC §13 `token_exchange`: which tokens the client may exchange, for which targets. */
const tokenExchange = z.strictObject({
  subject_audiences: z.array(z.string().check(z.minLength(1), z.maxLength(2048))).check(z.minLength(1), z.maxLength(50)),
  resources: z.array(resourceUri).check(z.minLength(1), z.maxLength(50)),
});

/** Fields an operator may set at creation. */
const fields = {
  client_name: z.string().check(z.minLength(1), z.maxLength(200)),
  token_endpoint_auth_signing_alg: z.enum([...PRIVATE_KEY_JWT_ALGS, ...CLIENT_SECRET_JWT_ALGS]),
  jwks: z.strictObject({ keys: z.array(ClientJwkSchema).check(z.minLength(1), z.maxLength(20)) }),
  jwks_uri: httpsUrl,
  scope: z.string().check(z.maxLength(2000), z.regex(SCOPE_LIST, "must be space-separated scope tokens (RFC 6749 §3.3)")),
  grant_types: z.array(z.literal(CLIENT_CREDENTIALS_GRANT)).check(z.minLength(1)),
  resources: z.array(resourceUri).check(z.maxLength(50)),
  access_token_ttl: z.number().check(z.int(), z.gte(60), z.lte(86_400)),
  audience_mode: z.enum(["compat", "strict"]),
  dpop_bound_access_tokens: z.boolean(),
  introspection_allowed: z.boolean(),
  disabled: z.boolean(),
  federated_credentials: FederatedCredentialsSchema,
  token_exchange: tokenExchange,
  replay_guard_shards: z.number().check(z.int(), z.gte(1), z.lte(MAX_REPLAY_GUARD_SHARDS)),
  replay_guard_location: z.enum(REPLAY_GUARD_LOCATIONS),
  // SPEC §11: at most `limit` tokens per fixed, epoch-aligned `window` seconds; `mode` defaults to enforce.
  token_quota: z.strictObject({
    limit: z.number().check(z.int(), z.gte(QUOTA_LIMIT_MIN), z.lte(QUOTA_LIMIT_MAX)),
    window: z.number().check(z.int(), z.gte(QUOTA_WINDOW_MIN_SECONDS), z.lte(QUOTA_WINDOW_MAX_SECONDS)),
    mode: z._default(z.enum(QUOTA_MODES), "enforce"),
  }),
};

export const CreateClientSchema = z.strictObject({
  client_id: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._~-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 . _ ~ -"))),
  token_endpoint_auth_method: z._default(z.enum(TOKEN_ENDPOINT_AUTH_METHODS), "private_key_jwt"),
  client_name: z.optional(fields.client_name),
  token_endpoint_auth_signing_alg: z.optional(fields.token_endpoint_auth_signing_alg),
  jwks: z.optional(fields.jwks),
  jwks_uri: z.optional(fields.jwks_uri),
  scope: z._default(fields.scope, ""),
  grant_types: z._default(fields.grant_types, [CLIENT_CREDENTIALS_GRANT]),
  resources: z._default(fields.resources, []),
  access_token_ttl: z.optional(fields.access_token_ttl),
  audience_mode: z.optional(fields.audience_mode),
  dpop_bound_access_tokens: z._default(fields.dpop_bound_access_tokens, false),
  introspection_allowed: z.optional(fields.introspection_allowed),
  disabled: z._default(fields.disabled, false),
  federated_credentials: z.optional(fields.federated_credentials),
  token_exchange: z.optional(fields.token_exchange),
  // SPEC §10: written into the record, so a later default never moves this client's objects.
  replay_guard_shards: z._default(fields.replay_guard_shards, DEFAULT_REPLAY_GUARD_SHARDS),
  replay_guard_location: z.optional(fields.replay_guard_location),
  token_quota: z.optional(fields.token_quota),
});

/** PATCH: any field but client_id and token_endpoint_auth_method; `null` clears an optional one. */
export const UpdateClientSchema = z.strictObject({
  client_name: z.optional(z.nullable(fields.client_name)),
  token_endpoint_auth_signing_alg: z.optional(z.nullable(fields.token_endpoint_auth_signing_alg)),
  jwks: z.optional(fields.jwks),
  jwks_uri: z.optional(fields.jwks_uri),
  scope: z.optional(fields.scope),
  grant_types: z.optional(fields.grant_types),
  resources: z.optional(fields.resources),
  access_token_ttl: z.optional(z.nullable(fields.access_token_ttl)),
  audience_mode: z.optional(z.nullable(fields.audience_mode)),
  dpop_bound_access_tokens: z.optional(fields.dpop_bound_access_tokens),
  introspection_allowed: z.optional(fields.introspection_allowed),
  disabled: z.optional(fields.disabled),
  federated_credentials: z.optional(z.nullable(fields.federated_credentials)),
  token_exchange: z.optional(z.nullable(fields.token_exchange)),
  replay_guard_shards: z.optional(fields.replay_guard_shards),
  replay_guard_location: z.optional(z.nullable(fields.replay_guard_location)),
  token_quota: z.optional(z.nullable(fields.token_quota)),
});

/** Longest overlap of an old and a new client secret after a rotation: 30 days. */
export const MAX_PREVIOUS_SECRET_SECONDS = 30 * 86_400;
/** Overlap when the rotation request does not say: a day, for clients to pick up the new secret. */
export const DEFAULT_PREVIOUS_SECRET_SECONDS = 86_400;

/** POST /admin/clients/:client_id/secret (an empty body takes the defaults). */
export const RotateSecretSchema = z.strictObject({
  /** How long the old secret keeps working, in seconds; 0 ends it at once (a leaked secret). */
  previous_secret_valid_for: z._default(
    z.number().check(z.int(), z.gte(0), z.lte(MAX_PREVIOUS_SECRET_SECONDS)),
    DEFAULT_PREVIOUS_SECRET_SECONDS,
  ),
});

/** POST /admin/clients/:client_id/keys: a public signing JWK with a `kid`, so it can later be removed by `kid`. */
export const AddKeySchema = ClientJwkSchema.check(z.refine((jwk) => typeof jwk.kid === "string", { message: "is required to add a key (keys are removed by kid)", path: ["kid"] }));

export type CreateClientInput = z.infer<typeof CreateClientSchema>;
export type UpdateClientInput = z.infer<typeof UpdateClientSchema>;
export type RotateSecretInput = z.infer<typeof RotateSecretSchema>;

/** Secret-based methods: the client has a secret, and no keys. */
export const usesSecret = (method: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number]) => method !== "private_key_jwt";

/** The fields whose combination is checked across the whole record. */
export interface KeyMaterialFields {
  token_endpoint_auth_method: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];
  token_endpoint_auth_signing_alg?: string | undefined;
  jwks?: { keys: readonly KeyShape[] } | undefined;
  jwks_uri?: string | undefined;
  federated_credentials?: readonly unknown[] | undefined;
}

/** What the cross-field rules read of a JWK. */
export interface KeyShape {
  kty?: string | undefined;
  kid?: string | undefined;
  crv?: string | undefined;
  alg?: string | undefined;
}

/**
 * Cross-field rules: a private_key_jwt client has exactly one of jwks / jwks_uri and an
 * asymmetric alg; secret clients have neither, and client_secret_jwt an HMAC alg.
 * @returns [field, problem] of the first broken rule, or undefined.
 */
export function checkKeyMaterial(client: KeyMaterialFields): [string, string] | undefined {
  const alg = client.token_endpoint_auth_signing_alg;
  const federated = (client.federated_credentials?.length ?? 0) > 0;
  if (client.token_endpoint_auth_method === "private_key_jwt") {
    // SPEC §9: a client with federated credentials needs no key of its own.
    const keySources = (client.jwks === undefined ? 0 : 1) + (client.jwks_uri === undefined ? 0 : 1);
    if (keySources > 1 || (keySources === 0 && !federated)) return ["jwks", "private_key_jwt needs exactly one of jwks or jwks_uri (or federated_credentials)"];
    if (alg !== undefined && !isAsymmetricAlg(alg)) return ["token_endpoint_auth_signing_alg", "private_key_jwt needs an asymmetric algorithm"];
    return client.jwks === undefined ? undefined : keySetProblem(client.jwks.keys, alg);
  }
  if (client.jwks !== undefined || client.jwks_uri !== undefined) return ["jwks", `${client.token_endpoint_auth_method} clients authenticate with a secret, not keys`];
  if (federated) return ["federated_credentials", "are for private_key_jwt clients only"];
  if (client.token_endpoint_auth_method === "client_secret_jwt") {
    if (alg !== undefined && !isHmacAlg(alg)) return ["token_endpoint_auth_signing_alg", "client_secret_jwt needs HS256, HS384 or HS512"];
  } else if (alg !== undefined) {
    return ["token_endpoint_auth_signing_alg", `${client.token_endpoint_auth_method} does not sign assertions`];
  }
  return undefined;
}

/**
 * SPEC §6: inline keys that could all serve: no two with one `kid` (a `kid` picks one key), and
 * each able to verify the registered alg (a key that cannot would never be used).
 */
function keySetProblem(keys: readonly KeyShape[], alg: string | undefined): [string, string] | undefined {
  const kids = new Set<string>();
  for (const key of keys) {
    if (key.kid === undefined) continue;
    if (kids.has(key.kid)) return ["jwks", `two keys have kid "${key.kid}"; each kid must name one key`];
    kids.add(key.kid);
  }
  for (const key of keys) {
    const problem = keyFitProblem(key, alg);
    if (problem) return ["jwks", problem];
  }
  return undefined;
}

/** Why `jwk` cannot verify the registered `alg` (its type, curve or own `alg` differ), or undefined. */
export function keyFitProblem(jwk: KeyShape, registeredAlg: string | undefined): string | undefined {
  if (registeredAlg === undefined || !isAsymmetricAlg(registeredAlg)) return undefined;
  if (!keyTypeFits(jwk, registeredAlg)) return `a ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ""} key cannot verify the client's token_endpoint_auth_signing_alg ${registeredAlg}`;
  if (jwk.alg !== undefined && !sameAlgorithm(jwk.alg, registeredAlg)) {
    return `alg ${jwk.alg} differs from the client's token_endpoint_auth_signing_alg ${registeredAlg}`;
  }
  return undefined;
}
