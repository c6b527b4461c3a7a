import { importPKCS8, SignJWT } from 'jose';
import { createPrivateKey } from 'node:crypto';

export interface AssertionClaims {
  consumerKey: string;
  username: string;
  audience: string;
  lifetimeSeconds?: number;
}

/**
 * Signs a JWT bearer assertion (RS256) with a connected app's private key. Accepts PKCS#1
 * ("BEGIN RSA PRIVATE KEY", what openssl writes) and PKCS#8 PEM.
 */
export async function signAssertion(privateKeyPem: string, claims: AssertionClaims): Promise<string> {
  const pkcs8 = createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = await importPKCS8(pkcs8, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(claims.consumerKey)
    .setSubject(claims.username)
    .setAudience(claims.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.lifetimeSeconds ?? 180))
    .sign(key);
}
