// Settings and secrets that are optional in wrangler.toml (SPEC §5). `wrangler types` only sees
// [vars]; these are the rest of the Worker's environment, all read through src/config.ts.
declare namespace Cloudflare {
  interface Env {
    /** The issuer identifier (RFC 8414). Required outside local dev. */
    ISSUER?: string;
    DEFAULT_AUDIENCE?: string;
    /** `on` | `off` | `admin`. Default: `on` for loopback requests, `off` otherwise. */
    SAMPLE_JWT_ROUTE?: string;
    /** Milliseconds the token endpoint waits for the replay guard before a 503. Default 3000. */
    REPLAY_GUARD_TIMEOUT_MS?: string;
    /** Secret: bearer token for /admin. */
    ADMIN_TOKEN?: string;
    /** Secret: JWK Set of private signing keys; the first signs. */
    SIGNING_KEYS?: string;
    /** Local dev only: a JWK Set that replaces the generated local signing key (`ets keys … --local`). Never read by a deployment. */
    LOCAL_DEV_SIGNING_KEYS?: string;
    /** Secret: 32-byte AES key (base64url) that encrypts client secrets at rest. */
    CLIENT_SECRET_KEY?: string;
  }
}
