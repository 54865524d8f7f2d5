// The test pool's `env` and `exports` are the Worker's own (TOOLCHAIN.md: Cloudflare.Env must be
// exactly the Worker's Env, or runInDurableObject rejects the class).
declare module "cloudflare:test" {
  interface ProvidedEnv extends Env {}
}
