// A local OpenID Connect provider for the sign-in tests (tests/test_signin.py): oidc-provider on 127.0.0.1, plain
// http, one confidential client, the test users of users.json, and a login form that checks their passwords.
// Dev-only: never part of the app.
//
//   node tests/oidc/provider.mjs [--port 0] [--client-id ID] [--client-secret S] [--redirect-uri URI]...
//
// Options fall back to OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (comma separated) and
// OIDC_USERS (a users file; default users.json beside this one). Port 0 takes a free port. Once listening it prints
// one line on stdout, `ready <issuer>`.

import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { interactionPolicy } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT ?? '0' },
    'client-id': { type: 'string', default: process.env.OIDC_CLIENT_ID ?? 'emptychair' },
    'client-secret': { type: 'string', default: process.env.OIDC_CLIENT_SECRET ?? 'emptychair-test-secret' },
    'redirect-uri': { type: 'string', multiple: true, default: (process.env.OIDC_REDIRECT_URIS ?? '').split(',') },
  },
});
const redirectUris = args['redirect-uri'].filter(Boolean);
if (!redirectUris.length) {
  console.error('provider.mjs: no redirect URI (--redirect-uri or OIDC_REDIRECT_URIS)');
  process.exit(2);
}

const usersFile = process.env.OIDC_USERS ?? new URL('users.json', import.meta.url);
const USERS = new Map(JSON.parse(readFileSync(usersFile, 'utf8')).map((u) => [u.email.toLowerCase(), u]));

const digest = (text) => createHash('sha256').update(String(text)).digest();
/** The user whose e-mail and password these are, or undefined (passwords compared in constant time). */
function authenticate(email, password) {
  const user = USERS.get(String(email ?? '').trim().toLowerCase());
  return user && timingSafeEqual(digest(user.password), digest(password ?? '')) ? user : undefined;
}

const escape = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:3rem auto}label,input,button{display:block;width:100%;
margin:.3rem 0}.error{color:#b00020}</style></head><body><h1>${escape(title)}</h1>${body}</body></html>`;

function loginForm(uid, { email = '', error } = {}) {
  return page('Sign in to the test provider', `${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label for="email">E-mail</label><input id="email" name="email" type="email" value="${escape(email)}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Continue</button></form>`);
}

// Streamlit asks for prompt=select_account, which oidc-provider's base policy does not know: like a real provider's
// account chooser, it is answered by the login form (every sign-in asks for the password).
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

const server = createServer();
await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false, // the scopes' claims go in the ID token, which is what Streamlit reads (st.user)
  async findAccount(ctx, sub) {
    const user = USERS.get(sub);
    return user && {
      accountId: sub,
      claims: async () => ({ sub, email: user.email, email_verified: true, name: user.name, groups: user.groups }),
    };
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })] },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false }, // they accept any password
    rpInitiatedLogout: {
      enabled: true,
      // Signing out of the dashboard signs out of the provider without asking (the form posts itself).
      async logoutSource(ctx, form) {
        ctx.body = page('Signing out', `${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<script>document.getElementById('op.logoutForm').submit()</script>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Provider error', `<pre>${escape(JSON.stringify(out, null, 2))}</pre>`);
  },
});
provider.on('server_error', (ctx, error) => console.error('provider error:', error));

async function formBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
}

/** The interaction pages: the login form (GET), its password check (POST), and consent granted without asking. */
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  const html = (status, body) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  };
  if (prompt.name === 'login' || prompt.name === 'select_account') {
    if (req.method !== 'POST') return html(200, loginForm(uid, { email: params.login_hint }));
    const { email, password } = await formBody(req);
    const user = authenticate(email, password);
    if (!user) return html(200, loginForm(uid, { email, error: 'Wrong e-mail or password.' }));
    const result = { select_account: {}, login: { accountId: user.email.toLowerCase() } };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'consent') { // a first-party client: what it asks for is granted
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } });
  }
  return html(400, page('Provider error', `<p>Unexpected prompt ${escape(prompt.name)}.</p>`));
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (!req.url.startsWith('/interaction/')) return callback(req, res);
  return interaction(req, res).catch((error) => {
    console.error('interaction error:', error);
    if (!res.headersSent) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Provider error', `<p>${escape(error.message)}</p>`));
    }
  });
});
console.log(`ready ${issuer}`);
