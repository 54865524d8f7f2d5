// @ts-check
/**
 * RFC 8693 §4.1 `act`: who acts for the token's subject, as a chain of nested objects, each with a
 * string `sub`. One rule for the server (token exchange, reading its own tokens) and the
 * `./resource` verifier, so the two never disagree on which chains are tokens of this service.
 */

/** SPEC §13: the deepest actor chain a token may carry (and how many tokens it may derive from). */
export const MAX_ACT_DEPTH = 5;

/**
 * How many actors an `act` claim nests, or undefined when it is not an actor chain of at most
 * MAX_ACT_DEPTH actors.
 * @param {unknown} act
 * @returns {number | undefined}
 */
export function actorDepth(act) {
  let depth = 0;
  for (let actor = act; actor !== undefined; depth++) {
    if (depth >= MAX_ACT_DEPTH || typeof actor !== "object" || actor === null || Array.isArray(actor)) return undefined;
    const { sub, act: inner } = /** @type {{ sub?: unknown, act?: unknown }} */ (actor);
    if (typeof sub !== "string") return undefined;
    actor = inner;
  }
  return depth;
}
