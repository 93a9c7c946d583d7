import { z } from 'zod';

/**
 * The one configuration schema. Every key has a default (or is required) and a description;
 * docs/configuration.md is generated from this file (`npm run docs:config`).
 */
const bilingual = z.object({ ja: z.string().min(1).max(300), en: z.string().min(1).max(300) }).strict();
const scopeLabel = z.object({
  short: bilingual.describe('One line: what the person allows ("See your account balances").'),
  long: bilingual.describe('What it means in plain words: which data, how far back, read or write.'),
  sensitive: z.boolean().default(false).describe('Health, money, identity documents: the consent screen gives it its own choice.'),
}).strict();

const resourceServer = z.object({
  identifier: z.url().describe('Resource indicator (RFC 8707) clients send as `resource`; also the token audience.'),
  scopes: z.array(z.string().min(1)).default([]).describe('Scopes this API understands.'),
  scopeLabels: z.record(z.string().min(1), scopeLabel).optional()
    .describe('For each scope, how the consent screen and the consents page put it to a person (short and long, ja and en) and whether it is sensitive. A scope without labels is shown by its name and treated as sensitive.'),
  accessTokenFormat: z.enum(['opaque', 'jwt']).default('opaque')
    .describe('`opaque` (introspected, revocable at once) or `jwt` (RFC 9068, verified offline; keep the TTL short).'),
  accessTokenTtl: z.number().int().min(30).max(3600).default(300).describe('Access token lifetime in seconds.'),
  introspectionClients: z.array(z.string().min(1)).default([])
    .describe('client_ids this API authenticates as when it introspects; only they (and the token\'s own client) see its tokens.'),
}).strict();

const smtp = z.object({
  host: z.string().min(1).describe('SMTP server host name (or address). Its certificate must match this name.'),
  port: z.number().int().min(1).max(65535).default(587).describe('SMTP port: 587 (submission, STARTTLS) or 465 with `secure`.'),
  secure: z.boolean().default(false)
    .describe('Implicit TLS from the first byte (port 465). When false, STARTTLS is required unless the host is loopback (localhost, 127.0.0.0/8, ::1).'),
  user: z.string().min(1).optional().describe('SMTP AUTH user name. Without it Sekisho does not authenticate.'),
  password: z.string().optional().describe('SMTP AUTH password (with `user`).'),
  rejectUnauthorized: z.boolean().default(true)
    .describe('Verify the SMTP server\'s TLS certificate. false is an escape hatch for test servers with self-signed certificates only; production mode refuses it.'),
}).strict().refine((s) => s.password === undefined || s.user !== undefined, { message: 'needs mail.smtp.user', path: ['password'] });

/** RFC 9396's common members: a configured type always allows them, so a field may not be named so. */
const RAR_COMMON_MEMBERS = ['type', 'locations', 'actions', 'datatypes', 'identifier', 'privileges'];
const authorizationDetailField = z.object({
  kind: z.enum(['string', 'integer', 'strings']).describe('`string`, `integer` (a safe integer) or `strings` (an array of distinct strings).'),
  enum: z.array(z.string().min(1).max(200)).min(1).max(100).optional().describe('The only values allowed (string and strings fields).'),
  required: z.boolean().default(false).describe('The client must send it.'),
  maxLength: z.number().int().min(1).max(2000).optional().describe('Longest string allowed (each string of a strings field); default 200.'),
  label: bilingual.describe('What the consent screen calls it, ja and en.'),
}).strict().refine((f) => f.kind !== 'integer' || (f.enum === undefined && f.maxLength === undefined), {
  message: 'enum and maxLength are for string and strings fields', path: ['kind'],
});
const authorizationDetailType = z.object({
  type: z.string().regex(/^[\x21-\x7e]{1,100}$/, 'printable ASCII without spaces, at most 100 characters')
    .describe('The RFC 9396 `type` value clients send. Built-in types (account_information, domestic_transfer, fhir_record_access) cannot be redefined.'),
  short: bilingual.describe('One line: what the person allows.'),
  long: bilingual.describe('What it means in plain words.'),
  sensitive: z.boolean().default(true).describe('Health, money, identity documents: marked as sensitive on the consent screen, in My consents and in receipts.'),
  oneTime: z.boolean().default(false).describe('A payment or other single action: the consent is for one use only.'),
  fields: z.record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,49}$/, 'a letter, then letters, digits and _ (at most 50)')
      .refine((name) => !RAR_COMMON_MEMBERS.includes(name), 'type, locations, actions, datatypes, identifier and privileges are RFC 9396 common members, always allowed'),
    authorizationDetailField,
    // zod says only "Invalid key in record"; say what is wrong with the name.
    { error: (issue) => (issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : undefined) },
  ).default({}).describe('The type\'s own members besides the common ones (locations, actions, datatypes, identifier, privileges), by name: `{ "kind": "string" | "integer" | "strings", "enum": [...], "required": false, "maxLength": 200, "label": { "ja": …, "en": … } }`. Any other member is refused.'),
}).strict();

export const configSchema = z.object({
  mode: z.enum(['development', 'production']).default('development')
    .describe('`production` refuses insecure settings (an http issuer, a missing keyEncryptionKey, no mail.smtp); `development` allows an http issuer on loopback and generates a key-encryption key.'),
  issuer: z.url().default('http://localhost:3000')
    .describe('The issuer identifier: the public https URL clients use. http is accepted only in development and only for loopback hosts.'),
  port: z.number().int().min(0).max(65535).default(3000).describe('TCP port to listen on.'),
  host: z.string().default('127.0.0.1').describe('Address to bind.'),
  dataDir: z.string().default('./data').describe('Folder for the embedded PGlite database (used when databaseUrl is empty).'),
  databaseUrl: z.string().optional()
    .describe('PostgreSQL connection URL. When set, PostgreSQL is used instead of the embedded PGlite engine.'),
  databasePoolSize: z.number().int().min(1).max(200).default(10).describe('PostgreSQL connection pool size.'),
  keyEncryptionKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 random bytes, base64url (43 characters)').optional()
    .describe('Key-encryption key for secrets at rest (signing keys, server secrets): 32 bytes base64url. Required in production; in development one is generated into dataDir.'),
  keyRotationOverlapSeconds: z.number().int().min(0).default(86400)
    .describe('How long a rotated-out signing key stays published in the JWKS so tokens it signed keep verifying.'),
  trustProxy: z.boolean().default(false)
    .describe('Honour X-Forwarded-* headers (set when behind a TLS-terminating proxy listed in mtls.trustedProxies).'),
  tls: z.object({
    certFile: z.string().describe('PEM server certificate (chain).'),
    keyFile: z.string().describe('PEM private key.'),
    clientCaFile: z.string().optional().describe('PEM bundle of CAs whose client certificates are trusted for tls_client_auth.'),
  }).strict().optional().describe('Listen on HTTPS (TLS 1.2+, BCP 195 suites) and request client certificates.'),
  mtls: z.object({
    enabled: z.boolean().default(true).describe('Offer tls_client_auth, self_signed_tls_client_auth and certificate-bound tokens.'),
    endpointAliasBase: z.url().optional()
      .describe('Base URL of the mTLS endpoints advertised in mtls_endpoint_aliases (default: the issuer).'),
    trustedProxies: z.array(z.string()).default([])
      .describe('Peer addresses of TLS-terminating proxies allowed to pass a client certificate in certificateHeader.'),
    certificateHeader: z.string().default('x-ssl-client-cert')
      .describe('Header carrying the URL-encoded PEM client certificate from a trusted proxy.'),
    verifiedHeader: z.string().default('x-ssl-client-verify')
      .describe('Header in which a trusted proxy says `SUCCESS` when it verified the certificate chain (tls_client_auth).'),
  }).strict().default({ enabled: true, trustedProxies: [], certificateHeader: 'x-ssl-client-cert', verifiedHeader: 'x-ssl-client-verify' })
    .describe('Mutual TLS (RFC 8705): client authentication and certificate-bound tokens, directly or through a trusted proxy.'),
  dpop: z.object({
    requireNonce: z.boolean().default(false).describe('Require DPoP server nonces (use_dpop_nonce) at the token endpoint and PAR.'),
    nonceSecret: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 random bytes, base64url').optional()
      .describe('Secret for DPoP nonces shared by every instance. Default: generated once and stored (encrypted) in the database, so instances sharing a database share it.'),
  }).strict().default({ requireNonce: false }).describe('DPoP (RFC 9449) settings.'),
  ttl: z.object({
    authorizationCode: z.number().int().min(10).max(60).default(60).describe('Authorization code lifetime (FAPI: at most 60 s).'),
    accessToken: z.number().int().min(30).max(3600).default(300).describe('Access token lifetime when no resource server says otherwise.'),
    refreshToken: z.number().int().min(60).default(60 * 60 * 24 * 30).describe('Refresh token lifetime.'),
    idToken: z.number().int().min(30).default(300).describe('ID token lifetime.'),
    session: z.number().int().min(60).default(60 * 60 * 8).describe('Sign-in session lifetime.'),
    interaction: z.number().int().min(60).default(60 * 10).describe('Time a person has to finish sign-in and consent.'),
    grant: z.number().int().min(60).default(60 * 60 * 24 * 90).describe('Consent (grant) lifetime.'),
    clientCredentials: z.number().int().min(30).max(3600).default(300).describe('client_credentials token lifetime.'),
  }).strict().default({ authorizationCode: 60, accessToken: 300, refreshToken: 2592000, idToken: 300, session: 28800, interaction: 600, grant: 7776000, clientCredentials: 300 })
    .describe('Lifetimes in seconds. request_uri lifetime is fixed at 60 s (RFC 9126, FAPI: below 600 s).'),
  resourceServers: z.array(resourceServer).default([]).describe('APIs tokens may be issued for (RFC 8707 resource indicators).'),
  clientCacheSeconds: z.number().int().min(0).max(300).default(5)
    .describe('How long each instance keeps a client\'s registration in memory; a change or removal reaches every instance within this time. 0 reads the database on every request.'),
  accountCacheSeconds: z.number().int().min(0).max(60).default(5)
    .describe('How long each instance reuses an account\'s claims when issuing tokens (the provider looks the account up at /auth and again at /token); a profile change or removal reaches tokens within this time. 0 reads the database every time.'),
  mail: z.object({
    from: z.string().min(3).default('Sekisho <no-reply@localhost>').describe('The From address of every mail Sekisho sends (sign-up and recovery codes, security alerts).'),
    smtp: smtp.optional()
      .describe('Deliver mail through this SMTP server. Without it mail goes to the development mailbox (the mail_outbox table, read with `sekisho mail list`); production mode requires it.'),
  }).strict().default({ from: 'Sekisho <no-reply@localhost>' })
    .describe('Outgoing mail.'),
  identity: z.object({
    passwords: z.boolean().default(true)
      .describe('Allow password sign-in (followed by TOTP when the person set it up). `false` is passwordless-only mode: passkeys, with e-mail recovery.'),
    passwordHashConcurrency: z.number().int().min(1).max(64).optional()
      .describe('Password hashes (scrypt, 128 MiB, ≈0.5 s of CPU each) run at once; default: CPU cores − 1, at least 1. Keeps libuv\'s thread pool free for token requests (docs/benchmarks.md).'),
    passwordHashQueue: z.number().int().min(0).max(10_000).optional()
      .describe('Password sign-ins that may wait for a hash; beyond that they get 503 with Retry-After at once. Default: 8 × passwordHashConcurrency.'),
    rpName: z.string().min(1).max(60).default('Sekisho').describe('The service name authenticators show when a passkey is created.'),
    signup: z.boolean().default(true).describe('Let people create their own accounts (e-mail verification, then a passkey).'),
    recovery: z.boolean().default(true)
      .describe('Let people who lost their passkeys recover their account with a code sent to their verified e-mail address, ending with a new passkey. `false` leaves recovery to the operator (e.g. in person at a branch).'),
    trustFrameworks: z.array(z.string().min(1).max(100).regex(/^[\x21-\x7e]+$/)).max(20).default(['jp_aml', 'nist_800_63A'])
      .describe('Trust frameworks identity verifications are recorded under (OpenID Connect for Identity Assurance `trust_framework`), advertised as `trust_frameworks_supported`.'),
    deletion: z.boolean().default(true)
      .describe('Let people delete their own account from the account page. `false` leaves deletion to the operator (`sekisho user delete`).'),
  }).strict().default({ passwords: true, rpName: 'Sekisho', signup: true, recovery: true, trustFrameworks: ['jp_aml', 'nist_800_63A'], deletion: true }).describe('Sign-in and sign-up (passkeys first).'),
  consent: z.object({
    retentionDays: z.number().int().min(365).max(36_500).default(1096)
      .describe('How long each consent record is kept after it was made (it says so in its receipt). Japan\'s APPI Art. 29/30 asks for up to 3 years for records of provision to third parties; sector rules may ask for more.'),
    controller: z.string().min(1).max(200).default('Sekisho')
      .describe('The data controller named in consent receipts (ISO/IEC TS 27560 `piiController`): the organisation running this server.'),
    contact: z.string().max(200).optional().describe('How a person reaches the controller about their consents (an address or URL), printed in receipts.'),
    jurisdiction: z.string().min(2).max(10).default('JP').describe('The jurisdiction named in consent receipts.'),
    authorizationDetailTypes: z.array(authorizationDetailType).max(50)
      .refine((types) => new Set(types.map((t) => t.type)).size === types.length, 'each type once').default([])
      .describe('A deployment\'s own Rich Authorization Request (RFC 9396) types, besides the built-in account_information, domestic_transfer and fhir_record_access: validated strictly (unknown members refused) and shown on the consent screen as a list of label: value.'),
  }).strict().default({ retentionDays: 1096, controller: 'Sekisho', jurisdiction: 'JP', authorizationDetailTypes: [] }).describe('The consent ledger and its receipts.'),
  outbound: z.object({
    caFile: z.string().min(1).optional().describe('PEM file of extra CA certificates Sekisho trusts when it calls servers others named (a client\'s jwks_uri or CIBA ping endpoint, a push service), besides the public roots.'),
    allowPrivateNetworks: z.boolean().default(false)
      .describe('Let those calls reach loopback, private and other special-use addresses. Off, they are refused even when a public name resolves to one (SSRF). Turn on only when clients live on your own network.'),
  }).strict().default({ allowPrivateNetworks: false }).describe('Calls to servers others chose (client endpoints, push services).'),
  ciba: z.object({
    pollIntervalSeconds: z.number().int().min(1).max(60).default(5)
      .describe('The `interval` a polling client is told (CIBA §7.3); a poll sooner than this after the last one is answered `slow_down`.'),
    maxExpirySeconds: z.number().int().min(30).max(3600).default(600)
      .describe('How long a backchannel request waits for the person at most; a client\'s `requested_expiry` can only shorten it.'),
    loginHint: z.array(z.union([z.enum(['username', 'email', 'phone_number']), z.string().regex(/^linked:[a-z_]{1,50}$/)])).min(1).max(5).default(['username'])
      .describe('What a `login_hint` may be, tried in order: the account\'s username, email or phone number, or `linked:<kind>`, the ref of a linked resource of that kind (a patient number registered with `sekisho user link`). A hint matching several accounts identifies nobody.'),
    loginHintTokenIssuers: z.array(z.object({
      issuer: z.string().min(1).max(500).describe('The `iss` of the tokens.'),
      jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) }).describe('The issuer\'s public keys (a JWK Set).'),
    }).strict()).max(20).default([])
      .describe('Issuers whose signed `login_hint_token`s Sekisho accepts (a JWT with `aud` = this issuer, `exp`, and `sub_id` as in RFC 9493: format `email`, `phone_number`, `opaque` (a login hint) or `iss_sub` (this issuer and the account id)).'),
    bindingMessageMaxLength: z.number().int().min(4).max(100).default(40)
      .describe('The longest `binding_message` the device app shows in full (characters); longer, or with control characters, is `invalid_binding_message`.'),
    maxPendingPerClientAndPerson: z.number().int().min(1).max(1000).default(5)
      .describe('How many requests from one client may wait for one person\'s decision at once; more are refused (invalid_request), so a client cannot flood a phone.'),
    delegateRouting: z.enum(['delegates', 'both']).default('delegates')
      .describe('Where a request for a person with an active delegation goes: only to the delegates\' devices, or to the person\'s as well.'),
    notifications: z.object({
      retries: z.number().int().min(0).max(10).default(3).describe('Further attempts after a failed delivery (with backoff); the request never waits for them.'),
      timeoutMs: z.number().int().min(100).max(30_000).default(5000).describe('How long one delivery attempt may take.'),
      webPush: z.object({
        subject: z.string().regex(/^(mailto:|https:)/).describe('VAPID `sub`: a mailto: or https: contact for the push service operator.'),
        publicKey: z.string().min(1).optional().describe('VAPID public key (base64url). With privateKey; without both, a key pair is generated once and kept encrypted in the database.'),
        privateKey: z.string().min(1).optional().describe('VAPID private key (base64url).'),
      }).strict().optional().describe('Web Push (RFC 8030/8291/8292) to the device app when it is closed. Off without this.'),
      webhook: z.object({
        url: z.string().url().describe('The deployment\'s own mobile backend (which notifies its native app through FCM or APNs).'),
        secret: z.string().min(32).describe('HMAC-SHA256 key for the `Sekisho-Signature` header.'),
      }).strict().optional().describe('A signed webhook for native apps. Off without this.'),
    }).strict().default({ retries: 3, timeoutMs: 5000 }).describe('How the device app learns of a new request: always the live channel to the open app, plus Web Push and a webhook when configured.'),
  }).strict().default({
    pollIntervalSeconds: 5, maxExpirySeconds: 600, loginHint: ['username'], loginHintTokenIssuers: [], bindingMessageMaxLength: 40, maxPendingPerClientAndPerson: 5, delegateRouting: 'delegates',
    notifications: { retries: 3, timeoutMs: 5000 },
  }).describe('Client-Initiated Backchannel Authentication (CIBA): the authentication device app, its notifications and delegations.'),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Minimum level written to the JSON log.'),
  purgeIntervalSeconds: z.number().int().min(5).default(300).describe('How often expired protocol records are deleted.'),
  maxBodyBytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024).describe('Largest request body accepted.'),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ResourceServerConfig = z.infer<typeof resourceServer>;
export type SmtpConfig = z.infer<typeof smtp>;
/** A deployment's own authorization_details type as configured (defaults not yet applied). */
export const authorizationDetailTypeConfigSchema = authorizationDetailType;
export type AuthorizationDetailTypeConfig = z.input<typeof authorizationDetailType>;
