/**
 * Fake workload-identity issuers for tests: a key pair generated in the test, and tokens with the
 * claims the real issuers publish (GitHub Actions "About security hardening with OpenID Connect",
 * GitLab "OpenID Connect (OIDC) Authentication Using ID Tokens", Kubernetes projected
 * service-account tokens, SPIFFE JWT-SVID). No network: keys are served inline or by test/support/jwks-host.ts.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { ISSUER, nowSeconds } from "./helpers.js";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

export interface FakeIssuer {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: JWK;
  readonly privateKey: CryptoKey;
  /** Sign `claims` (undefined values dropped) with this issuer's key; `header` overrides. */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

export async function fakeIssuer(alg = "RS256", kid = `kid-${crypto.randomUUID().slice(0, 8)}`): Promise<FakeIssuer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return {
    kid,
    alg,
    publicJwk,
    privateKey,
    sign: (claims, header = {}) => signWith(privateKey, claims, { alg, kid, typ: "JWT", ...header }),
  };
}

export function signWith(key: CryptoKey, claims: Record<string, unknown>, header: Record<string, unknown>): Promise<string> {
  const defined = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return new SignJWT(defined).setProtectedHeader(header as { alg: string }).sign(key);
}

const times = (lifetime = 300) => {
  const now = nowSeconds();
  return { iat: now, nbf: now - 5, exp: now + lifetime };
};

/** A GitHub Actions OIDC token of a push to main of acme/api (repository_id 123456). */
export function githubClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: crypto.randomUUID(),
    sub: "repo:acme/api:ref:refs/heads/main",
    aud: ISSUER,
    ref: "refs/heads/main",
    sha: "4a8bd29b8d0c3b0c8b2e1a5a4b2f8f6d7e9c0a1b",
    repository: "acme/api",
    repository_owner: "acme",
    repository_owner_id: "4242",
    repository_visibility: "private",
    repository_id: "123456",
    run_id: "9876543210",
    run_number: "17",
    run_attempt: "1",
    runner_environment: "github-hosted",
    actor_id: "1001",
    actor: "octocat",
    workflow: "deploy",
    head_ref: "",
    base_ref: "",
    event_name: "push",
    ref_type: "branch",
    ref_protected: "true",
    workflow_ref: "acme/api/.github/workflows/deploy.yml@refs/heads/main",
    workflow_sha: "4a8bd29b8d0c3b0c8b2e1a5a4b2f8f6d7e9c0a1b",
    job_workflow_ref: "acme/api/.github/workflows/deploy.yml@refs/heads/main",
    job_workflow_sha: "4a8bd29b8d0c3b0c8b2e1a5a4b2f8f6d7e9c0a1b",
    iss: GITHUB_ISSUER,
    ...times(),
    ...overrides,
  };
}

/** A GitLab CI id_token of a pipeline on main of group/proj (project_id 20, namespace_id 72). */
export function gitlabClaims(issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespace_id: "72",
    namespace_path: "group",
    project_id: "20",
    project_path: "group/proj",
    user_id: "1",
    user_login: "sample-user",
    user_email: "sample-user@example.com",
    user_access_level: "maintainer",
    pipeline_id: "574",
    pipeline_source: "push",
    job_id: "302",
    ref: "main",
    ref_type: "branch",
    ref_path: "refs/heads/main",
    ref_protected: "true",
    runner_id: 1,
    runner_environment: "gitlab-hosted",
    sha: "714a629c0b401fdce83e847fc9589983fc6f46bc",
    project_visibility: "private",
    ci_config_ref_uri: "gitlab.com/group/proj//.gitlab-ci.yml@refs/heads/main",
    ci_config_sha: "714a629c0b401fdce83e847fc9589983fc6f46bc",
    jti: crypto.randomUUID(),
    iss: issuer,
    sub: "project_path:group/proj:ref_type:branch:ref:main",
    aud: ISSUER,
    ...times(),
    ...overrides,
  };
}

/** A Kubernetes projected service-account token for prod/deployer (no jti: reusable until exp). */
export function kubernetesClaims(issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: [ISSUER],
    iss: issuer,
    sub: "system:serviceaccount:prod:deployer",
    "kubernetes.io": {
      namespace: "prod",
      node: { name: "node-1", uid: "5ae3d1a6-3f3f-4b8e-9f5a-1f1b5b7c9d2e" },
      pod: { name: "deployer-7d9c8b-x2k4p", uid: "0f6f2e1d-1b2c-4d5e-8f9a-0b1c2d3e4f5a" },
      serviceaccount: { name: "deployer", uid: "a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d" },
    },
    ...times(600),
    ...overrides,
  };
}

/** A SPIFFE JWT-SVID of spiffe://example.org/ns/prod/sa/api (iss optional in the SPIFFE spec). */
export function spiffeClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { iat, exp } = times(300);
  return { sub: "spiffe://example.org/ns/prod/sa/api", aud: [ISSUER], iat, exp, ...overrides };
}
