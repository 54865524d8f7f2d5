// @ts-check
/**
 * Key pairs made on the operator's machine: client keys (the private half stays in a local file,
 * only the public JWK is registered) and server signing keys (entries of `SIGNING_KEYS`). jose
 * only, WebCrypto underneath.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { parsePrivateKeyText } from "../client/assertion.js";
import { isAsymmetricAlg, PRIVATE_KEY_JWT_ALGS } from "../core/algorithms.js";
import { CliError, UsageError } from "./args.js";

/**
 * The algorithm of a key the CLI generates: a client's `private_key_jwt` key or a `SIGNING_KEYS`
 * entry, so one of the server's asymmetric algorithms (core/algorithms.js: PRIVATE_KEY_JWT_ALGS,
 * which ACCESS_TOKEN_SIGNING_ALGS is too). ES256 by default.
 * @param {string | undefined} alg
 * @returns {import("../core/algorithms.js").AsymmetricAlg}
 * @throws {UsageError} for an algorithm the server does not accept for such a key.
 */
export function checkAlg(alg) {
  const chosen = alg ?? "ES256";
  // isAsymmetricAlg is membership of PRIVATE_KEY_JWT_ALGS, which ACCESS_TOKEN_SIGNING_ALGS is too.
  if (!isAsymmetricAlg(chosen)) {
    throw new UsageError(`--alg must be one of ${PRIVATE_KEY_JWT_ALGS.join(", ")}`);
  }
  return chosen;
}

/**
 * A fresh key pair with `kid` = date + the first characters of its RFC 7638 thumbprint, so the
 * age of a key is visible in listings and the kid is unique.
 * @param {string} alg
 * @returns {Promise<{ privateJwk: import("jose").JWK, publicJwk: import("jose").JWK, kid: string }>}
 */
export async function generateKeyPairJwk(alg) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const publicBare = await exportJWK(publicKey);
  const kid = `${new Date().toISOString().slice(0, 10)}-${(await calculateJwkThumbprint(publicBare)).slice(0, 12)}`;
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use: "sig" },
    publicJwk: { ...publicBare, kid, alg, use: "sig" },
    kid,
  };
}

/**
 * Read a private key file (JWK JSON or PKCS#8 PEM).
 * @param {import("./context.js").CliIo} io
 * @param {string} path
 * @returns {Promise<import("jose").JWK | string>}
 * @throws {CliError} when the file is missing or not a private key.
 */
export async function readPrivateKeyFile(io, path) {
  let text;
  try {
    text = await io.readFile(path);
  } catch (err) {
    throw new CliError(`cannot read the key file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const key = parsePrivateKeyText(text);
    if (typeof key !== "string" && typeof key.d !== "string") throw new TypeError("it holds a public key; the private key (with \"d\") is needed");
    return key;
  } catch (err) {
    throw new CliError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Write a private key file: mode 0600, never over an existing file.
 * @param {import("./context.js").CliIo} io
 * @param {string} path
 * @param {import("jose").JWK} jwk
 */
export async function writePrivateKeyFile(io, path, jwk) {
  try {
    await io.writeFile(path, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, exclusive: true });
  } catch (err) {
    throw new CliError(`cannot write the private key to ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
