/**
 * Passkeys (WebAuthn) as a second factor: the ceremony options this portal asks browsers for, and
 * the checks on what comes back, over @simplewebauthn/server. No HTTP and no storage: the service
 * (auth/passkey-service.ts) keeps the challenges and the credentials.
 *
 * Choices, each with its reason:
 * - attestation `none`: the portal trusts a passkey because the person enrolled it while logged in,
 *   not because of who made the authenticator; asking for attestation would only shut out synced
 *   passkeys (WebAuthn L3 §5.4.7, and what passkeys.dev recommends for consumer-style enrolment).
 * - user verification `preferred`, not required: the password was the first factor, so the passkey
 *   proves possession (ASVS 5.0 6.3.3: two factors of different kinds).
 * - the RP id and origins come from configuration (config.ts `relyingPartyOf`), never a Host header.
 * - the signature counter: a response whose counter is not above the stored one (when either is
 *   non-zero) is refused by the library as a possible clone (WebAuthn §6.1.1); authenticators that
 *   keep no counter send 0 forever, and the single-use challenge is then what stops a replay.
 */
import { createHmac } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { AppError, validationFailed } from '../../errors.js';

/** Where passkeys work and what browsers show: from configuration (config.ts `relyingPartyOf`). */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

/** A registered credential as the rules need it; binary values as base64url. */
export interface PasskeyCredential {
  credentialId: string;
  empNo: number;
  publicKey: string;
  signCount: number;
  transports: string[];
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** The person a credential is made for, as the authenticator will show them. */
export interface PasskeyHolder {
  empNo: number;
  email: string;
  displayName: string;
}

/** How long a person has to answer the browser's prompt; the challenge lives as long, then it is gone. */
export const PASSKEY_CEREMONY_TIMEOUT_SECONDS = 300;
/** Enough for a phone, a laptop and a spare key or two; keeps a list (and allowCredentials) short. */
export const MAX_PASSKEYS_PER_PERSON = 10;
/** 256 bytes in base64url: the column's width (WebAuthn allows 1023 bytes; authenticators use 16 to 64). */
export const MAX_CREDENTIAL_ID_LENGTH = 342;
export const MAX_PASSKEY_NAME_LENGTH = 64;
/** ES256 (every platform authenticator), EdDSA and RS256 (Windows Hello): the library's defaults without post-quantum ones. */
const SUPPORTED_ALGORITHMS = [-7, -8, -257];
const TRANSPORTS: ReadonlySet<string> = new Set<AuthenticatorTransport>(['ble', 'hybrid', 'internal', 'nfc', 'usb']);

/** The answer to a ceremony that did not check out: no detail, which would only help an attacker. */
export const passkeyNotVerified = () => new AppError(400, 'PASSKEY_NOT_VERIFIED', 'The passkey could not be verified');

/**
 * The WebAuthn user handle of an employee: stable, so that an authenticator replaces its own
 * credential for the same person instead of piling up a second one, and keyed, so that it does not
 * carry the employee number (WebAuthn §14.6.1: no personal data in the user handle).
 */
export function userHandleOf(secretKey: string, empNo: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHmac('sha256', secretKey).update(`webauthn-user:${empNo}`).digest());
}

/** A person's name for a passkey, trimmed; 422 naming the field when empty or too long. */
export function validatePasskeyName(name: unknown, field = 'name'): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed.length === 0) throw validationFailed([{ field, message: 'must not be empty' }]);
  if (trimmed.length > MAX_PASSKEY_NAME_LENGTH) {
    throw validationFailed([{ field, message: `must be at most ${MAX_PASSKEY_NAME_LENGTH} characters` }]);
  }
  return trimmed;
}

/** Only the transports WebAuthn defines, for the hint given back at login. */
function knownTransports(transports: readonly string[] | undefined): AuthenticatorTransport[] {
  return (transports ?? []).filter((transport) => TRANSPORTS.has(transport)) as AuthenticatorTransport[];
}

/** What every answer is checked against: the challenge issued, our origins and RP id; presence, not verification (see above). */
function expected(rp: RelyingParty, challenge: string) {
  return { expectedChallenge: challenge, expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: false };
}

/** The library's verdict, its refusal (a thrown Error) turned into `passkeyNotVerified`, the reason kept as `cause` for the log. */
async function refusedAsNotVerified<T>(verification: Promise<T>): Promise<T> {
  try {
    return await verification;
  } catch (error) {
    throw Object.assign(passkeyNotVerified(), { cause: error });
  }
}

/** Options for `navigator.credentials.create()`: a fresh challenge, and the person's passkeys excluded. */
export function registrationOptions(
  rp: RelyingParty,
  holder: PasskeyHolder,
  userHandle: Uint8Array<ArrayBuffer>,
  existing: readonly PasskeyCredential[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: holder.email,
    userDisplayName: holder.displayName,
    userID: userHandle,
    timeout: PASSKEY_CEREMONY_TIMEOUT_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: existing.map((credential) => ({ id: credential.credentialId, transports: knownTransports(credential.transports) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
}

/** What a verified registration gives to store. */
export type NewPasskey = Pick<PasskeyCredential, 'credentialId' | 'publicKey' | 'signCount' | 'transports'>;

/**
 * Checks a browser's answer to `registrationOptions`: the challenge issued, one of our origins, our
 * RP id, user presence, a supported algorithm. Throws `passkeyNotVerified` (400) otherwise, with the
 * library's reason in `cause` for the log.
 */
export async function verifyRegistration(rp: RelyingParty, response: RegistrationResponseJSON, challenge: string): Promise<NewPasskey> {
  const verified = await refusedAsNotVerified(
    verifyRegistrationResponse({ ...expected(rp, challenge), response, supportedAlgorithmIDs: SUPPORTED_ALGORITHMS }),
  );
  if (!verified.verified) throw passkeyNotVerified();
  const { credential } = verified.registrationInfo;
  if (credential.id.length > MAX_CREDENTIAL_ID_LENGTH) throw passkeyNotVerified();
  return {
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    signCount: credential.counter,
    transports: knownTransports(credential.transports ?? response.response.transports),
  };
}

/** Options for `navigator.credentials.get()`: a fresh challenge, and only this person's passkeys allowed. */
export function authenticationOptions(
  rp: RelyingParty,
  credentials: readonly PasskeyCredential[],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.id,
    timeout: PASSKEY_CEREMONY_TIMEOUT_SECONDS * 1000,
    userVerification: 'preferred',
    allowCredentials: credentials.map((credential) => ({
      id: credential.credentialId,
      transports: knownTransports(credential.transports),
    })),
  });
}

/**
 * Checks a browser's answer to `authenticationOptions` against the stored credential it names:
 * the challenge, origin, RP id, the signature, and a counter above the stored one (see above).
 * Returns the new counter; throws `passkeyNotVerified` (400) otherwise.
 */
export async function verifyAuthentication(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  challenge: string,
  credential: PasskeyCredential,
): Promise<{ signCount: number }> {
  const verified = await refusedAsNotVerified(
    verifyAuthenticationResponse({
      ...expected(rp, challenge),
      response,
      credential: {
        id: credential.credentialId,
        publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')),
        counter: credential.signCount,
        transports: knownTransports(credential.transports),
      },
    }),
  );
  if (!verified.verified) throw passkeyNotVerified();
  return { signCount: verified.authenticationInfo.newCounter };
}
