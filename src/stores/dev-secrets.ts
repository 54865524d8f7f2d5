/**
 * Local development material (SPEC §5, §8), generated once and kept in a Durable Object, so every
 * isolate of `wrangler dev` signs with the same key and sees the same demo clients. Only ever
 * reached in local dev (src/local-dev.ts: a loopback request and no SIGNING_KEYS or
 * CLIENT_SECRET_KEY); a Worker with its secrets never uses it.
 */
import { DurableObject } from "cloudflare:workers";
import { base64url, exportJWK, generateKeyPair, type JWK } from "jose";
import { generateClientSecret, generateSecretBoxKey } from "./secret-box.js";
import { generateSigningJwk } from "./signing-keys.js";

export interface DevMaterial {
  /** A SIGNING_KEYS value (one ES256 private key). */
  signingKeys: string;
  /** A CLIENT_SECRET_KEY value. */
  clientSecretKey: string;
  /** Admin token used when ADMIN_TOKEN is not set. */
  adminToken: string;
  /** Secret of the client_secret_jwt demo client. */
  demoClientSecret: string;
  /** Private key of the private_key_jwt demo client (ES256). */
  demoPrivateJwk: JWK;
}

const STORAGE_KEY = "dev-material-v1";
/** The one DevSecrets object of a Worker. */
const OBJECT_NAME = "local-dev";

/** The local dev material, from the Worker's one DevSecrets object (generated on the first call). */
export function devMaterialFrom(namespace: DurableObjectNamespace<DevSecrets>): Promise<DevMaterial> {
  return namespace.get(namespace.idFromName(OBJECT_NAME)).material();
}

export class DevSecrets extends DurableObject<Env> {
  #pending: Promise<DevMaterial> | undefined;

  /** The material, generated on first call and returned unchanged afterwards. */
  material(): Promise<DevMaterial> {
    // Held in memory so concurrent first calls share one generation (key generation awaits
    // WebCrypto, which lets other requests into the object).
    this.#pending ??= this.#loadOrGenerate();
    this.#pending.catch(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #loadOrGenerate(): Promise<DevMaterial> {
    const stored = await this.ctx.storage.get<DevMaterial>(STORAGE_KEY);
    if (stored) return stored;
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const material: DevMaterial = {
      signingKeys: JSON.stringify({ keys: [await generateSigningJwk("ES256")] }),
      clientSecretKey: generateSecretBoxKey(),
      adminToken: base64url.encode(crypto.getRandomValues(new Uint8Array(24))),
      demoClientSecret: generateClientSecret(),
      demoPrivateJwk: { ...(await exportJWK(privateKey)), kid: "demo-key-1", alg: "ES256" },
    };
    await this.ctx.storage.put(STORAGE_KEY, material);
    console.log("local dev: generated a signing key, a secret-encryption key and demo clients (kept in .wrangler/)");
    return material;
  }
}
