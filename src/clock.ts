/**
 * The one clock. OAuth rules take `now` (whole seconds since the epoch, as JWT NumericDate) from
 * here or from their caller, never from `Date.now()` directly, so tests can pin time.
 */
export type Clock = () => number;

/** Current time in whole seconds (RFC 7519 §2 NumericDate). */
export const systemClock: Clock = () => Math.floor(Date.now() / 1000);
