// @ts-check
/**
 * Which URLs this server may fetch (SPEC §6: a client's `jwks_uri`, and a trusted issuer's
 * discovery, JWKS and bundle URLs), and which hosts are loopback (local dev; where the CLI may send
 * a credential over plain http://), checked as addresses, not as strings. Pure functions, no OAuth
 * vocabulary, so every layer, every fetcher and the CLI use the same rules.
 *
 * Hosts are read from `new URL(x).hostname`, after WHATWG parsing has normalised them
 * (`http://0x7f.1/` → `127.0.0.1`, `[::ffff:127.0.0.1]` → `[::ffff:7f00:1]`), never from the text.
 *
 * Refused outside local dev: IP literals that are not globally reachable (IPv4: 0/8, 10/8,
 * 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16,
 * 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 and 240/4 — RFC 6890 special-purpose and
 * multicast; IPv6: everything outside 2000::/3 (so ::, ::1, fc00::/7, fe80::/10, ff00::/8,
 * ::ffff:0:0/96, 64:ff9b::/96), and inside it 2001::/23, 2001:db8::/32 and 2002::/16), the names
 * `localhost` and `*.localhost` (RFC 6761 §6.3), and any host ending in a dot. A DNS name that
 * resolves to a private address cannot be seen from a Worker; Cloudflare's edge does not connect
 * to such addresses, self-hosted workerd must be firewalled.
 */

/** @typedef {string | undefined} FetchUrlProblem Why a URL may not be fetched, or undefined when it may. Texts complete "the URL …". */

/**
 * Which URLs this server may fetch, decided once from the Worker's configuration (src/local-dev.ts)
 * and passed down as this value to everything that stores or fetches a URL.
 * @typedef {object} AddressPolicy
 * @property {"public" | "local_dev"} name
 * @property {boolean} loopbackAllowed  `http://` and `https://` to a loopback host (127/8, ::1, localhost) are allowed.
 */

/** @type {AddressPolicy} A deployment: https:// to public hosts only. */
export const PUBLIC_ADDRESSES = Object.freeze({ name: "public", loopbackAllowed: false });
/** @type {AddressPolicy} Local dev: loopback hosts too, over http:// or https://, so local fakes can serve. */
export const LOCAL_DEV_ADDRESSES = Object.freeze({ name: "local_dev", loopbackAllowed: true });

/**
 * Check a URL this server is about to store or fetch.
 * @param {string} uri
 * @param {AddressPolicy} policy
 * @returns {FetchUrlProblem} the problem in words (e.g. "must be an https:// URL"), or undefined when it may be fetched.
 */
export function fetchUrlProblem(uri, policy) {
  if (!URL.canParse(uri)) return "must be an absolute https:// URL";
  const url = new URL(uri);
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https:// URL";
  if (url.username !== "" || url.password !== "") return "must not contain credentials";
  if (policy.loopbackAllowed && isLoopbackHostname(url.hostname)) return undefined;
  if (url.protocol !== "https:") return "must be an https:// URL (http:// only to a loopback host in local dev)";
  return hostProblem(url.hostname);
}

/**
 * Why a hostname (URL.hostname form) is not a public host, or undefined when it is.
 * @param {string} hostname
 * @returns {FetchUrlProblem}
 */
export function hostProblem(hostname) {
  if (hostname === "" ) return "must name a host";
  if (hostname.endsWith(".")) return "must not name a host with a trailing dot";
  const lower = hostname.toLowerCase();
  if (lower === "localhost" || lower.endsWith(".localhost")) return "must not name localhost (a loopback jwks_uri is accepted in local dev only)";
  const v4 = parseIPv4(hostname);
  if (v4 !== undefined) return isGlobalIPv4(v4) ? undefined : "must not name a loopback, private, link-local or other non-public IP address";
  if (hostname.startsWith("[")) {
    const v6 = parseIPv6(hostname.slice(1, -1));
    if (v6 === undefined || !isGlobalIPv6(v6)) return "must not name a loopback, private, link-local or other non-public IP address";
  }
  return undefined;
}

/**
 * True for loopback hosts: 127.0.0.0/8, [::1], [::ffff:127.x.y.z], `localhost` and `*.localhost`.
 * @param {string} hostname
 * @returns {boolean}
 */
export function isLoopbackHostname(hostname) {
  const lower = hostname.toLowerCase();
  if (lower === "localhost" || lower.endsWith(".localhost")) return true;
  const v4 = parseIPv4(hostname);
  if (v4 !== undefined) return v4 >>> 24 === 127;
  if (!hostname.startsWith("[")) return false;
  const v6 = parseIPv6(hostname.slice(1, -1));
  if (v6 === undefined) return false;
  if (v6.slice(0, 7).every((h) => h === 0) && v6[7] === 1) return true;
  const mapped = mappedIPv4(v6);
  return mapped !== undefined && mapped >>> 24 === 127;
}

/**
 * True for the loopback hosts a program on the operator's machine may send a credential to over
 * plain `http://` (the CLI, SPEC §8): 127.0.0.0/8, [::1] and `localhost`. Stricter than
 * isLoopbackHostname on purpose, and only here: that one judges the host a Worker was called on,
 * where the whole configuration decides (src/local-dev.ts); this one decides where a secret goes
 * through the machine's own resolver and network stack, so only forms that stay on the machine on
 * every system count. Not `*.localhost` (a resolver that does not follow RFC 6761 §6.3 asks DNS),
 * not an IPv4-mapped `[::ffff:127.x.y.z]` (whether it reaches 127/8 depends on the system's
 * dual-stack support).
 * @param {string} hostname  URL.hostname form
 * @returns {boolean}
 */
export function isLoopbackForCredentials(hostname) {
  if (hostname.toLowerCase().endsWith(".localhost")) return false;
  const v6 = hostname.startsWith("[") ? parseIPv6(hostname.slice(1, -1)) : undefined;
  if (v6 !== undefined && mappedIPv4(v6) !== undefined) return false;
  return isLoopbackHostname(hostname);
}

/**
 * A dotted-quad IPv4 address as an unsigned 32-bit number (WHATWG hostnames are already canonical).
 * @param {string} hostname
 * @returns {number | undefined}
 */
function parseIPv4(hostname) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (!m) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = m.slice(1).map(Number);
  const octets = [a, b, c, d];
  if (octets.some((o) => o > 255)) return undefined;
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** [prefix, bits] of IPv4 ranges that are not globally reachable (RFC 6890, RFC 6598, RFC 5737). */
/** @type {readonly [string, number][]} */
const NON_GLOBAL_IPV4 = [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16],
  ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
];

/**
 * @param {number} address
 * @returns {boolean}
 */
function isGlobalIPv4(address) {
  return !NON_GLOBAL_IPV4.some(([prefix, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (address & mask) >>> 0 === ((parseIPv4(prefix) ?? 0) & mask) >>> 0;
  });
}

/**
 * Eight 16-bit groups of an IPv6 address in URL.hostname form (without brackets), or undefined.
 * @param {string} text
 * @returns {number[] | undefined}
 */
function parseIPv6(text) {
  let head = text;
  /** @type {number[]} */
  let tail = [];
  // A trailing dotted quad (WHATWG serialises it away, but accept it anyway).
  const quad = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const v4 = parseIPv4(quad[2] ?? "");
    if (v4 === undefined) return undefined;
    head = `${quad[1]}0:0`;
    tail = [v4 >>> 16, v4 & 0xffff];
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (/** @type {string} */ part) => (part === "" ? [] : part.split(":"));
  const left = groups(halves[0] ?? "");
  const right = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if ([...left, ...right].some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const fill = 8 - left.length - right.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...left, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...right].map((g) => parseInt(g, 16));
  if (tail.length) all.splice(6, 2, ...tail);
  return all;
}

/**
 * The IPv4 address inside ::ffff:a.b.c.d (IPv4-mapped), else undefined.
 * @param {number[]} groups
 * @returns {number | undefined}
 */
function mappedIPv4(groups) {
  if (!(groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)) return undefined;
  return (((groups[6] ?? 0) << 16) | (groups[7] ?? 0)) >>> 0;
}

/**
 * Global unicast 2000::/3 only, minus its special-purpose blocks (RFC 6890, RFC 3849, RFC 3056).
 * @param {number[]} groups
 * @returns {boolean}
 */
function isGlobalIPv6(groups) {
  const [first = 0, second = 0] = groups;
  if ((first & 0xe000) !== 0x2000) return false;
  if (first === 0x2001 && second < 0x0200) return false; // 2001::/23 IETF protocol assignments
  if (first === 0x2001 && second === 0x0db8) return false; // 2001:db8::/32 documentation
  if (first === 0x2002) return false; // 2002::/16 6to4, which embeds any IPv4 address
  return true;
}
