/**
 * The schema of one federated credential on a client record (SPEC §9 `federated_credentials`).
 * Shape only; the rules that need the trusted issuer and this server's issuer are in
 * credential-checks.ts.
 */
import { FEDERATED_GRANTS } from "../../core/federation.js";
import * as z from "../../zod.js";

/** Most federated credentials on one client. */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** Claims that the generic rules already check; pinning them in `claims` would be a mistake. */
const REGISTERED_CLAIMS = new Set(["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]);

export const FederatedCredentialSchema = z
  .strictObject({
    name: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 . _ -")),
    issuer: z.string().check(z.minLength(1), z.maxLength(400)),
    subject: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
    subject_pattern: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
    audience: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
    claims: z.optional(
      z.record(
        z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,64}$/, "claim names are 1-64 characters of A-Z a-z 0-9 _ . : -")),
        z.string().check(z.minLength(1), z.maxLength(256)),
      ),
    ),
    allow_default_service_account: z.optional(z.boolean()),
    // SPEC §13: client_assertion (the default), jwt_bearer (the grant without client_id), or both.
    grants: z.optional(z.array(z.enum(FEDERATED_GRANTS)).check(z.minLength(1), z.maxLength(FEDERATED_GRANTS.length))),
  })
  .check(
    z.superRefine((credential, ctx) => {
      if ((credential.subject === undefined) === (credential.subject_pattern === undefined)) {
        ctx.addIssue({ code: "custom", message: "give exactly one of subject or subject_pattern", path: ["subject"] });
      }
      if (credential.grants !== undefined && new Set(credential.grants).size !== credential.grants.length) {
        ctx.addIssue({ code: "custom", message: "lists a grant twice", path: ["grants"] });
      }
      const claims = Object.keys(credential.claims ?? {});
      if (claims.length > 20) ctx.addIssue({ code: "custom", message: "at most 20 claims", path: ["claims"] });
      for (const name of claims.filter((n) => REGISTERED_CLAIMS.has(n))) {
        ctx.addIssue({ code: "custom", message: `"${name}" is checked by its own rule; use subject, subject_pattern or audience`, path: ["claims", name] });
      }
    }),
  );

export const FederatedCredentialsSchema = z.array(FederatedCredentialSchema).check(z.maxLength(MAX_FEDERATED_CREDENTIALS));
