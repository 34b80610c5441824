// A real OpenID Connect provider (the `oidc-provider` package, OpenID Certified) on a loopback
// port, for welzijnshuis's sign-in tests (tests/api/oidc.rs).
//
//   node server.mjs <audience>
//
// Listens on a free port of 127.0.0.1 and prints `issuer http://127.0.0.1:<port>` once it does.
// Exits when its standard input closes, so that it never outlives the test that started it.
//
// The provider is set up as the house's would be: one first-party web client (public, code flow
// with PKCE), the API `<audience>` as a resource server whose access tokens are JWTs (RFC 9068)
// carrying `email` and `email_verified`, signed with RS256 keys published at /jwks.
//
// Beside the provider's own endpoints, a few for the tests alone, under /test/:
//   POST /test/sign-in {sub, email, email_verified, rrn?, resource?}
//        the whole authorization code flow with PKCE, as a front end runs it, for an account
//        with these claims (the login is accepted without a password); answers the token
//        endpoint's JSON: {access_token, id_token, ...}. A citizen's account has `rrn`, their
//        national register number, as the federal login releases it (scope `rrn`), and its
//        access token carries it.
//   POST /test/sign {payload, kid?, key?: "current" | "foreign"}
//        a JWT of any payload signed with the provider's current key (or with a key it never
//        published), for the claims a real provider would never put in a token
//   POST /test/rotate
//        a new signing key with a new kid, first in the key set (the old one stays published,
//        as during a real rotation); answers {kid}
//   GET  /test/jwks-fetches
//        how often /jwks was fetched: {count}
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const audience = process.argv[2];
if (!audience) {
  console.error('usage: node server.mjs <audience>');
  process.exit(2);
}
const OTHER_RESOURCE = 'https://andere-dienst.test';
const CLIENT = { client_id: 'welzijnshuis-web', redirect_uri: 'https://welzijnshuis.test/callback' };

/** Accounts by sub: the claims /test/sign-in was given. */
const accounts = new Map();
/** The private signing keys, newest first. */
let keys = [await newKey()];
/** A key that is never published. */
const foreignKey = await newKey();
let jwksFetches = 0;
let provider;

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

function build(issuer) {
  const resources = {
    [audience]: 'welzijnshuis',
    [OTHER_RESOURCE]: 'andere',
  };
  const configuration = {
    clients: [{
      client_id: CLIENT.client_id,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [CLIENT.redirect_uri],
    }],
    jwks: { keys },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], rrn: ['rrn'] },
    scopes: ['openid', 'email', 'rrn'],
    pkce: { required: () => true },
    cookies: { keys: ['welzijnshuis-test-cookie-key'] },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (!resources[resource]) throw new Provider.errors.InvalidTarget();
          return {
            scope: resources[resource],
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // As an identity provider set up for an API that links users by address does (Keycloak does
    // by default): the access token says the account's e-mail address and whether it is verified.
    extraTokenClaims: (ctx, token) => {
      const account = accounts.get(token.accountId);
      if (!account) return undefined;
      const claims = { email: account.email, email_verified: account.email_verified };
      return account.rrn === undefined ? claims : { ...claims, rrn: account.rrn };
    },
    findAccount: (ctx, sub) => {
      const account = accounts.get(sub);
      return account && { accountId: sub, claims: () => ({ sub, ...account }) };
    },
    // A first-party client: no consent screen, the house grants its own app what it asks.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email rrn');
      for (const [resource, scope] of Object.entries(resources)) grant.addResourceScope(resource, scope);
      await grant.save();
      return grant;
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Grant: 600, Interaction: 600, Session: 600 },
    renderError: (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };
  const built = new Provider(issuer, configuration);
  built.on('server_error', (ctx, error) => console.error('provider error:', error));
  return built;
}

/** The login page: accepts the account named by `login_hint`, with no password. */
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const sub = details.params.login_hint;
  if (details.prompt.name !== 'login' || !accounts.has(sub)) {
    res.writeHead(400).end(`cannot finish the ${details.prompt.name} prompt for ${sub}`);
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
}

/** A cookie jar for one sign-in: every cookie the provider set, sent back on every request. */
function jar() {
  const cookies = new Map();
  return {
    header: () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
    keep(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair.indexOf('=');
        cookies.set(pair.slice(0, at), pair.slice(at + 1));
      }
    },
  };
}

/** The authorization code flow with PKCE, as a browser and a front end run it. */
async function signIn(issuer, { sub, email, email_verified, rrn, resource = audience }) {
  accounts.set(sub, rrn === undefined ? { email, email_verified } : { email, email_verified, rrn });
  const verifier = jose.base64url.encode(crypto.randomBytes(32));
  const challenge = jose.base64url.encode(crypto.createHash('sha256').update(verifier).digest());
  const authorize = new URL('/auth', issuer);
  authorize.search = new URLSearchParams({
    client_id: CLIENT.client_id,
    redirect_uri: CLIENT.redirect_uri,
    response_type: 'code',
    scope: `openid email ${rrn === undefined ? '' : 'rrn '}${resource === audience ? 'welzijnshuis' : 'andere'}`,
    resource,
    login_hint: sub,
    state: crypto.randomUUID(),
    nonce: crypto.randomUUID(),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const cookies = jar();
  let location = authorize.href;
  // Follow the redirects through the login page until the one back to the client.
  for (let hop = 0; hop < 10 && !location.startsWith(CLIENT.redirect_uri); hop += 1) {
    const response = await fetch(new URL(location, issuer), {
      redirect: 'manual',
      headers: { cookie: cookies.header() },
    });
    cookies.keep(response);
    location = response.headers.get('location');
    if (!location) throw new Error(`the sign-in stopped at ${response.status}: ${await response.text()}`);
  }
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const token = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CLIENT.redirect_uri,
      code_verifier: verifier,
      client_id: CLIENT.client_id,
      resource,
    }),
  });
  const body = await token.json();
  if (!token.ok) throw new Error(`the token endpoint answered ${token.status}: ${JSON.stringify(body)}`);
  return body;
}

/** A JWT of `payload` signed with the current key or a foreign one, under `kid`. */
async function sign({ payload, kid, key = 'current' }) {
  const jwk = key === 'foreign' ? foreignKey : keys[0];
  const privateKey = await jose.importJWK(jwk, 'RS256');
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: kid ?? jwk.kid })
    .sign(privateKey);
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function testEndpoint(req, res, issuer) {
  const route = `${req.method} ${new URL(req.url, issuer).pathname}`;
  switch (route) {
    case 'POST /test/sign-in':
      return answer(res, 200, await signIn(issuer, await readJson(req)));
    case 'POST /test/sign':
      return answer(res, 200, { token: await sign(await readJson(req)) });
    case 'POST /test/rotate':
      keys = [await newKey(), ...keys];
      // A provider picks its keys up at start: this one starts anew with the new set.
      provider = build(issuer);
      return answer(res, 200, { kid: keys[0].kid });
    case 'GET /test/jwks-fetches':
      return answer(res, 200, { count: jwksFetches });
    default:
      return answer(res, 404, { error: `no ${route}` });
  }
}

const server = http.createServer(async (req, res) => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const path = new URL(req.url, issuer).pathname;
  try {
    if (path.startsWith('/test/')) return await testEndpoint(req, res, issuer);
    if (path.startsWith('/interaction/')) return await interaction(req, res);
    if (path === '/jwks') jwksFetches += 1;
    return provider.callback()(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) answer(res, 500, { error: String(error?.message ?? error) });
    return undefined;
  }
});

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = build(issuer);
  console.log(`issuer ${issuer}`);
});

// The test that started us is gone when our standard input closes.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
