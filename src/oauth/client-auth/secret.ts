/**
 * Constant-time comparison of secrets (client_secret_basic / client_secret_post, admin token).
 * Both sides are hashed first, so the comparison time depends on neither length nor content
 * (RFC 6749 §10.3 / OWASP: no early-exit string compare on secrets).
 */
const encoder = new TextEncoder();

export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b) && presented.length === expected.length;
}
