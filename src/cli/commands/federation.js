// @ts-check
/**
 * Federated client authentication for operators (SPEC §9): `ets trusted-issuers …` (add with a
 * preset in one command, list, show, remove), `ets clients add-federated-credential` /
 * `remove-federated-credential`, and `ets federation explain`, all on the admin API.
 */
import { CliError, clientIdArg, flag, integerFlag, listFlag, requiredFlag, UsageError } from "../args.js";
import { FEDERATED_GRANTS, TRUSTED_ISSUER_PRESETS } from "../../core/federation-names.js";

/** @typedef {import("../context.js").CommandContext} CommandContext */
/** @typedef {{ run: (ctx: CommandContext) => Promise<void>, usage: string }} Command */

/** @type {readonly string[]} */
const PRESETS = TRUSTED_ISSUER_PRESETS;
const ISSUERS = "/admin/trusted-issuers";

/** @type {Record<string, Command>} */
export const trustedIssuerCommands = {
  add: {
    run: addIssuer,
    usage: `trusted-issuers add [--preset ${PRESETS.join("|")}] [--issuer URL] [--discovery | --jwks-uri URL | --jwks-file FILE | --spiffe-bundle-endpoint URL] [--allowed-alg RS256]… [--max-token-lifetime S] [--shared | --not-shared] [--immutable-claim C]… [--jti-policy single_use|reuse]`,
  },
  list: { run: listIssuers, usage: "trusted-issuers list" },
  show: { run: showIssuer, usage: "trusted-issuers show ISSUER" },
  remove: { run: removeIssuer, usage: "trusted-issuers remove ISSUER" },
};

/** @type {Record<string, Command>} */
export const federatedCredentialCommands = {
  "create-federated": {
    run: createFederated,
    usage: "clients create-federated --name N [--client-id ID] [--scope 'a b'] [--resource URI]… --credential-name C --issuer URL (--subject S | --subject-pattern P) [--claim NAME=VALUE]… [--grant client_assertion|jwt_bearer]… [--allow-default-service-account]",
  },
  "add-federated-credential": {
    run: addCredential,
    usage: "clients add-federated-credential ID --name N --issuer URL (--subject S | --subject-pattern P) [--claim NAME=VALUE]… [--audience URL] [--grant client_assertion|jwt_bearer]… [--allow-default-service-account]",
  },
  "remove-federated-credential": { run: removeCredential, usage: "clients remove-federated-credential ID --name N" },
};

/** @type {Record<string, Command>} */
export const federationCommands = {
  explain: { run: explain, usage: "federation explain --client-id ID --token-file FILE (- for stdin); exit code 1 when no credential matches" },
};

/** @param {CommandContext} ctx */
async function addIssuer(ctx) {
  const { args } = ctx;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  /** @type {Record<string, unknown>} */
  const body = {};
  const preset = flag(args, "preset");
  if (preset !== undefined) {
    if (!PRESETS.includes(preset)) throw new UsageError(`--preset must be one of ${PRESETS.join(", ")}`);
    body.preset = preset;
  }
  const set = (/** @type {string} */ field, /** @type {unknown} */ value) => void (value !== undefined && (body[field] = value));
  set("issuer", flag(args, "issuer"));
  if (args.flags.discovery === true) body.discovery = true;
  set("jwks_uri", flag(args, "jwks-uri"));
  set("spiffe_bundle_endpoint", flag(args, "spiffe-bundle-endpoint"));
  const jwksFile = flag(args, "jwks-file");
  if (jwksFile !== undefined) body.jwks = await readJsonFile(ctx, jwksFile);
  const algs = listFlag(args, "allowed-alg");
  if (algs.length > 0) body.allowed_algs = algs;
  set("max_token_lifetime", integerFlag(args, "max-token-lifetime"));
  if (args.flags.shared === true && args.flags["not-shared"] === true) throw new UsageError("give --shared or --not-shared, not both");
  if (args.flags.shared === true) body.shared = true;
  // SPEC §9: an issuer without a preset is shared unless the operator says only their workloads get its tokens.
  if (args.flags["not-shared"] === true) body.shared = false;
  const claims = listFlag(args, "immutable-claim");
  if (claims.length > 0) body.immutable_claims = claims;
  set("jti_policy", flag(args, "jti-policy"));
  if (preset === undefined && body.issuer === undefined) throw new UsageError("--preset or --issuer is required");

  const record = await ctx.admin("POST", ISSUERS, body);
  if (ctx.json) return ctx.out(JSON.stringify(record, null, 2));
  ctx.out(`issuer: ${record.issuer}`);
  ctx.out(`keys: ${keySource(record)}`);
  ctx.out(`allowed_algs: ${record.allowed_algs.join(" ")}`);
  ctx.out(`shared: ${record.shared}${record.immutable_claims ? ` (credentials must pin ${record.immutable_claims.join(" or ")})` : ""}`);
  ctx.out(`jti_policy: ${record.jti_policy}`);
  ctx.note(`Next: ets clients add-federated-credential <client-id> --name <name> --issuer ${record.issuer} --subject <sub>${record.immutable_claims ? ` --claim ${record.immutable_claims[0]}=<id>` : ""}`);
}

/** @param {CommandContext} ctx */
async function listIssuers(ctx) {
  /** @type {any[]} */
  const issuers = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    const page = await ctx.admin("GET", `${ISSUERS}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    issuers.push(...page.trusted_issuers);
    cursor = page.next_cursor;
  } while (cursor);
  if (ctx.json) return ctx.out(JSON.stringify(issuers, null, 2));
  for (const i of issuers) ctx.out(`${i.issuer}  ${i.preset ?? "-"}  ${keySource(i)}  ${i.shared ? "shared" : "single-tenant"}  ${i.jti_policy}`);
}

/** @param {CommandContext} ctx */
async function showIssuer(ctx) {
  ctx.out(JSON.stringify(await ctx.admin("GET", `${ISSUERS}/${encodeURIComponent(issuerArg(ctx))}`), null, 2));
}

/** @param {CommandContext} ctx */
async function removeIssuer(ctx) {
  const issuer = issuerArg(ctx);
  await ctx.admin("DELETE", `${ISSUERS}/${encodeURIComponent(issuer)}`);
  ctx.out(`${issuer} is no longer trusted`);
  ctx.note("Credentials that name it now fail with 'its issuer (iss) is not a trusted issuer'.");
}

/**
 * A client with no key of its own: a workload's identity is its only credential.
 * @param {CommandContext} ctx
 */
async function createFederated(ctx) {
  const { args } = ctx;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  /** @type {Record<string, unknown>} */
  const metadata = {
    client_id: flag(args, "client-id") ?? crypto.randomUUID(),
    client_name: requiredFlag(args, "name"),
    token_endpoint_auth_method: "private_key_jwt",
    federated_credentials: [credentialFromFlags(ctx, requiredFlag(args, "credential-name"))],
  };
  const scope = flag(args, "scope");
  if (scope !== undefined) metadata.scope = scope;
  // RFC 8707: the APIs the workload may ask tokens for (`resource` in its token request).
  const resources = listFlag(args, "resource");
  if (resources.length > 0) metadata.resources = resources;
  const info = await ctx.admin("POST", "/admin/clients", metadata);
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  ctx.out(`client_id: ${info.client_id}`);
  ctx.out(`federated_credentials: ${info.federated_credentials.map((/** @type {any} */ c) => c.name).join(" ")}`);
  ctx.note("No secret or key was created: the workload sends its issuer's token as client_assertion with this client_id.");
}

/** @param {CommandContext} ctx */
async function addCredential(ctx) {
  const id = clientIdArg(ctx.args);
  const credential = credentialFromFlags(ctx, requiredFlag(ctx.args, "name"));
  const info = await ctx.admin("POST", `/admin/clients/${encodeURIComponent(id)}/federated-credentials`, credential);
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  ctx.out(`federated_credentials: ${info.federated_credentials.map((/** @type {any} */ c) => c.name).join(" ")}`);
  ctx.note(`Test a token before the pipeline runs: ets federation explain --client-id ${id} --token-file token.jwt`);
}

/**
 * The credential described by --issuer, --subject / --subject-pattern, --claim, --audience, --grant.
 * @param {CommandContext} ctx
 * @param {string} name
 * @returns {Record<string, unknown>}
 */
function credentialFromFlags(ctx, name) {
  const { args } = ctx;
  /** @type {Record<string, unknown>} */
  const credential = { name, issuer: requiredFlag(args, "issuer") };
  const subject = flag(args, "subject");
  const pattern = flag(args, "subject-pattern");
  if ((subject === undefined) === (pattern === undefined)) throw new UsageError("give exactly one of --subject or --subject-pattern");
  if (subject !== undefined) credential.subject = subject;
  if (pattern !== undefined) credential.subject_pattern = pattern;
  const audience = flag(args, "audience");
  if (audience !== undefined) credential.audience = audience;
  /** @type {Record<string, string>} */
  const claims = {};
  for (const pair of listFlag(args, "claim")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--claim must be NAME=VALUE, got "${pair}"`);
    claims[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (Object.keys(claims).length > 0) credential.claims = claims;
  if (args.flags["allow-default-service-account"] === true) credential.allow_default_service_account = true;
  // SPEC §13: --grant jwt_bearer lets the workload use its token as the JWT bearer grant (no client_id).
  const grants = listFlag(args, "grant");
  /** @type {readonly string[]} */
  const known = FEDERATED_GRANTS;
  const unknown = grants.find((g) => !known.includes(g));
  if (unknown !== undefined) throw new UsageError(`--grant must be one of ${FEDERATED_GRANTS.join(", ")}, got "${unknown}"`);
  if (grants.length > 0) credential.grants = [...new Set(grants)];
  return credential;
}

/** @param {CommandContext} ctx */
async function removeCredential(ctx) {
  const id = clientIdArg(ctx.args);
  const name = requiredFlag(ctx.args, "name");
  const info = await ctx.admin("DELETE", `/admin/clients/${encodeURIComponent(id)}/federated-credentials/${encodeURIComponent(name)}`);
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  ctx.out(`removed ${name}; remaining: ${(info.federated_credentials ?? []).map((/** @type {any} */ c) => c.name).join(" ") || "-"}`);
}

/** @param {CommandContext} ctx */
async function explain(ctx) {
  const id = requiredFlag(ctx.args, "client-id");
  const file = requiredFlag(ctx.args, "token-file");
  const text = file === "-" ? await ctx.io.readStdin() : await ctx.io.readFile(file).catch((err) => {
    throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const answer = await ctx.admin("POST", `/admin/clients/${encodeURIComponent(id)}/federation/explain`, { assertion: text.trim() });
  if (ctx.json) ctx.out(JSON.stringify(answer, null, 2));
  else {
    ctx.out(`matched: ${answer.matched ?? "none"}`);
    if (answer.failure) ctx.out(`failure: ${answer.failure.rule}: ${answer.failure.description}`);
    for (const c of answer.credentials) ctx.out(`  ${c.name}: ${c.result}${c.description ? ` (${c.description})` : ""}`);
    // SPEC §13: the same token as the JWT bearer grant's assertion (no client_id).
    const grant = answer.jwt_bearer;
    if (grant !== undefined) {
      ctx.out(`jwt-bearer grant: ${grant.matched ?? "none"}${grant.failure ? ` (${grant.failure.rule}: ${grant.failure.description})` : ""}`);
      for (const c of grant.credentials) ctx.out(`  ${c.name}: ${c.result}${c.description ? ` (${c.description})` : ""}`);
      if (grant.other_clients.length > 0) ctx.out(`  also matched by: ${grant.other_clients.join(" ")}`);
    }
  }
  // A pipeline step (`ets federation explain … && deploy`) must stop when the token would be refused.
  if (!answer.matched && !answer.jwt_bearer?.matched) throw new CliError(`no federated credential of ${id} accepts this token`);
}

/**
 * @param {CommandContext} ctx
 * @returns {string}
 */
function issuerArg(ctx) {
  const issuer = ctx.args.positionals[0] ?? flag(ctx.args, "issuer");
  if (issuer === undefined || issuer === "") throw new UsageError("the issuer is required (as the first argument or --issuer)");
  return issuer;
}

/**
 * @param {any} record
 * @returns {string}
 */
function keySource(record) {
  if (record.discovery) return "discovery";
  if (record.jwks_uri) return `jwks_uri ${record.jwks_uri}`;
  if (record.spiffe_bundle_endpoint) return `spiffe bundle ${record.spiffe_bundle_endpoint}`;
  return "inline jwks";
}

/**
 * @param {CommandContext} ctx
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function readJsonFile(ctx, path) {
  const text = await ctx.io.readFile(path).catch((err) => {
    throw new CliError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON`);
  }
}
