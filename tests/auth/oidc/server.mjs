// A real OpenID Connect provider (npm oidc-provider) for FraiseQL's auth tests.
//
//   node server.mjs CONFIG.json
//
// CONFIG: {"port": N, "issuers": [{"mount": "/realms/test", "issuer": "http://127.0.0.1:N/realms/test",
//   "keys": [private JWKs], "alg": "RS256", "audience": "https://api.test", "scope": "read write",
//   "clients": [{"client_id": "...", "client_secret": "...", "claims": {...}}]}]}
// Several issuers share one loopback port, each mounted under its issuer's path (the
// longest matching mount wins; "/" takes the rest). Each client gets JWT access tokens
// from the client credentials grant; its "claims" are merged into every token it gets
// (a null removes a claim), which shapes tokens like Keycloak's, Azure's or Auth0's.
// A client with "redirect_uris" is a browser login client instead: authorization code
// (PKCE, required), "public": true for no secret (token_endpoint_auth_method none), and
// the issuer's "accounts" ({sub: {claims}}) give each user's ID token claims; the
// devInteractions login and consent forms are on (any login name is accepted).
// Prints "ready PORT" once listening; stopped by its PID (SIGTERM).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function makeProvider(spec) {
  const claimsByClient = Object.fromEntries(spec.clients.map((c) => [c.client_id, c.claims || {}]));
  const accounts = spec.accounts || {};
  const interactive = spec.clients.some((c) => c.redirect_uris);
  const provider = new Provider(spec.issuer, {
    clients: spec.clients.map((c) => (c.redirect_uris ? {
      client_id: c.client_id,
      ...(c.public ? {} : { client_secret: c.client_secret }),
      grant_types: ['authorization_code'],
      redirect_uris: c.redirect_uris,
      response_types: ['code'],
      token_endpoint_auth_method: c.public ? 'none' : (c.auth_method || 'client_secret_basic'),
      id_token_signed_response_alg: spec.alg || 'RS256',
    } : {
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: spec.alg || 'RS256',
    })),
    jwks: { keys: spec.keys },
    pkce: { required: () => true },
    // The scope's claims go into the ID token itself (a login needs no userinfo call).
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], profile: ['name', 'roles', 'tenant'], email: ['email'] },
    findAccount: (ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, ...(accounts[sub] || {}) }),
    }),
    features: {
      devInteractions: { enabled: interactive },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => spec.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({
          scope: spec.scope || 'read write',
          audience: resource,
          accessTokenTTL: spec.ttl || 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: spec.alg || 'RS256' } },
        }),
      },
    },
    formats: {
      customizers: {
        jwt: async (ctx, token, jwt) => {
          for (const [name, value] of Object.entries(claimsByClient[token.clientId] || {})) {
            if (value === null) delete jwt.payload[name];
            else jwt.payload[name] = value;
          }
        },
      },
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return { mount: spec.mount === '/' ? '' : spec.mount.replace(/\/$/, ''), callback: provider.callback() };
}

const mounts = config.issuers.map(makeProvider).sort((a, b) => b.mount.length - a.mount.length);

const server = createServer((req, res) => {
  const path = req.url.split('?')[0];
  const target = mounts.find((m) => m.mount === '' || path === m.mount || path.startsWith(`${m.mount}/`));
  if (!target) {
    res.writeHead(404).end();
    return;
  }
  if (target.mount) {
    // What a mounting framework does: the provider sees its own paths, and originalUrl
    // tells it where it is mounted (for the URLs in its discovery document).
    req.originalUrl = req.url;
    req.url = req.url.slice(target.mount.length) || '/';
  }
  target.callback(req, res);
});

server.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
