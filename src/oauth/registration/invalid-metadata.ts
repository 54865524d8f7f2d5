/**
 * How registration input is refused (RFC 7591 §3.2.2 `invalid_client_metadata`, SPEC §6): with
 * the field named, from the schema (schema.ts) or from a rule that reads the whole record.
 */
import { OAuthError } from "../../core/errors.js";
import type * as z from "../../zod.js";

/** Parse `input` with `schema`, or throw naming the first bad field (`body` for the whole). */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join(".") : "body";
  throw invalidMetadata(field, issue.message);
}

/** RFC 7591 §3.2.2: 400 `invalid_client_metadata` naming the field and the problem. */
export function invalidMetadata(field: string, problem: string): OAuthError {
  return new OAuthError("client_metadata_invalid", `${field}: ${problem}`);
}
