import { ACR } from '../protocol/claims-catalogue.ts';

/**
 * Authentication assurance: what a sign-in method proves, as NIST SP 800-63B levels (`acr`) and
 * RFC 8176 method references (`amr`).
 *
 *   password                              AAL1  pwd
 *   password + TOTP / recovery code       AAL2  pwd otp mfa
 *   synced passkey, user verified         AAL2  swk user mfa   (the key can leave the device)
 *   device-bound passkey, user verified   AAL3  hwk user mfa   (hardware-held, cannot be copied)
 *   passkey without user verification     AAL1  hwk|swk user
 *
 * Sekisho always asks authenticators for user verification; the last row is there so that a
 * response without it is never reported as more than it is.
 */
export type Acr = (typeof ACR)[keyof typeof ACR];
export type Level = 1 | 2 | 3;

export interface Achieved {
  acr: Acr;
  amr: string[];
  level: Level;
}

const ACR_BY_LEVEL: Record<Level, Acr> = { 1: ACR.aal1, 2: ACR.aal2, 3: ACR.aal3 };

export function levelOf(acr: string | undefined): Level | undefined {
  if (acr === ACR.aal1) return 1;
  if (acr === ACR.aal2) return 2;
  if (acr === ACR.aal3) return 3;
  return undefined;
}

export function achieved(level: Level, amr: string[]): Achieved {
  return { acr: ACR_BY_LEVEL[level], amr: [...new Set(amr)], level };
}

export function passwordAssurance(): Achieved {
  return achieved(1, ['pwd']);
}

/** Password followed by a one-time code (TOTP or a recovery code) at the same sign-in. */
export function passwordAndOtpAssurance(): Achieved {
  return achieved(2, ['pwd', 'otp', 'mfa']);
}

export function passkeyAssurance(p: { deviceType: 'singleDevice' | 'multiDevice'; backedUp: boolean; userVerified: boolean }): Achieved {
  const deviceBound = p.deviceType === 'singleDevice' && !p.backedUp;
  const key = deviceBound ? 'hwk' : 'swk';
  if (!p.userVerified) return achieved(1, [key, 'user']);
  return achieved(deviceBound ? 3 : 2, [key, 'user', 'mfa']);
}

/** Combines two factors proven at one sign-in (step-up keeps what was already shown). */
export function combine(first: Achieved, second: Achieved): Achieved {
  const amr = [...first.amr, ...second.amr];
  // Two different factors make a multi-factor sign-in even if each alone was single-factor.
  const level = Math.max(first.level, second.level, first.amr.includes('pwd') && second.amr.some((m) => m === 'otp' || m === 'hwk' || m === 'swk') ? 2 : 1) as Level;
  return achieved(level, level >= 2 ? [...amr, 'mfa'] : amr);
}

/**
 * The levels a request asks for: `acr_values` and an essential `acr` claim (value or values).
 * Unknown values are ignored; undefined when nothing Sekisho knows was asked for.
 */
export function requestedLevels(params: { acr_values?: unknown; claims?: unknown }): Level[] | undefined {
  const values: string[] = [];
  if (typeof params.acr_values === 'string') values.push(...params.acr_values.split(' ').filter(Boolean));
  const claims = typeof params.claims === 'string' ? safeJson(params.claims) : params.claims;
  const acr = (claims as { id_token?: { acr?: { essential?: boolean; value?: unknown; values?: unknown } } } | undefined)?.id_token?.acr;
  if (acr?.essential) {
    if (typeof acr.value === 'string') values.push(acr.value);
    if (Array.isArray(acr.values)) values.push(...acr.values.filter((v): v is string => typeof v === 'string'));
  }
  const levels = values.map(levelOf).filter((l): l is Level => l !== undefined);
  return levels.length ? levels : undefined;
}

/**
 * The lowest level that satisfies the request: levels are ordered, so a request listing several
 * is met by the weakest of them (or anything stronger). Sekisho treats `acr_values` as a
 * requirement, like an essential claim: a bank that asks for AAL2 does not want AAL1.
 */
export function requiredLevel(params: { acr_values?: unknown; claims?: unknown }): Level {
  const levels = requestedLevels(params);
  return levels ? (Math.min(...levels) as Level) : 1;
}

/**
 * The `acr` to report: what was achieved. Only when the client made `acr` an essential claim is
 * it the strongest requested value that what was achieved satisfies, because oidc-provider checks
 * an essential `acr` by equality and AAL3 does satisfy a request for AAL2. (`acr_values` is a
 * preference list; the client is told the truth and decides.)
 */
export function reportedAcr(done: Achieved, params: { acr_values?: unknown; claims?: unknown }): Acr {
  const essential = requestedLevels({ claims: params.claims });
  if (!essential || essential.includes(done.level)) return done.acr;
  const met = essential.filter((l) => l <= done.level);
  return met.length ? ACR_BY_LEVEL[Math.max(...met) as Level] : done.acr;
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return undefined; }
}
