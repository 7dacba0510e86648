// scopegate console: a thin client over the issuer's own management API,
// token endpoint and /_local endpoints. It decides nothing itself: every rule
// (validation, scopes, token acceptance) is the server's.
//
// No framework, no build step. The DOM is built with createElement and
// textContent only: every value from the API is untrusted.
'use strict';

// ---------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------

/** el('tag', {attrs}, ...children): attrs starting with "on" are listeners. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function button(text, onclick, attrs) {
  return el('button', Object.assign({ type: 'button', onclick }, attrs || {}), text);
}

/** A labelled input in a .field wrapper; the input carries data-field. */
function field(label, input, hint) {
  const id = input.id || ('f-' + Math.random().toString(36).slice(2));
  input.id = id;
  return el('div', { class: 'field' },
    el('label', { for: id }, label), input,
    hint ? el('p', { class: 'hint' }, hint) : null);
}

function checkbox(label, attrs, extra) {
  const box = el('input', Object.assign({ type: 'checkbox' }, attrs || {}));
  return el('label', { class: 'check' }, box, ' ', label, extra ? [' ', extra] : null);
}

function checkedValues(root, name) {
  return Array.from(root.querySelectorAll(`input[name="${name}"]:checked:not(:disabled)`)).map((b) => b.value);
}

/** One URL a line: trimmed, empty lines dropped (a URL may hold commas). */
function lines(text) {
  return text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

function table(headers, rows, attrs) {
  return el('table', attrs || {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

function notice(text) {
  return el('p', { class: 'notice', role: 'status' }, text);
}

function formatTime(seconds) {
  if (seconds === null || seconds === undefined || seconds === '') return '—';
  const n = Number(seconds);
  if (!Number.isFinite(n)) return String(seconds);
  return new Date(n < 1e12 ? n * 1000 : n).toLocaleString();
}

// ---------------------------------------------------------------------------
// Errors: Cognito's message, verbatim, next to the field it names
// ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(type, message, status, refused) {
    super(message || type || `HTTP ${status}`);
    this.type = type || '';
    this.status = status;
    /** The guard's code (x-scopegate-refused), when it refused the call. */
    this.refused = refused || '';
  }
}

/** Fields named by a Cognito validation message: at 'scopes.2.member.scopeName'. */
function namedFields(message) {
  return Array.from(String(message).matchAll(/at '([^']+)'/g)).map((m) => m[1]);
}

/** Fields by exception type, for messages that name no field. */
const FIELD_BY_TYPE = {
  ScopeDoesNotExistException: 'allowedOAuthScopes',
  InvalidOAuthFlowException: 'allowedOAuthFlows',
};

function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach((n) => n.remove());
  form.querySelectorAll('[aria-invalid]').forEach((n) => n.removeAttribute('aria-invalid'));
}

/** The input for a field path: 'scopes.2.member.scopeName' exactly, else the
 *  closest enclosing path ('callbackURLs.1.member' -> 'callbackURLs'). */
function fieldFor(form, name) {
  for (let path = name; path; path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '') {
    const input = form.querySelector(`[data-field="${CSS.escape(path)}"]`);
    if (input) return input;
  }
  return null;
}

function showError(form, error) {
  clearErrors(form);
  const message = error && error.message ? error.message : String(error);
  const names = namedFields(message);
  if (!names.length && FIELD_BY_TYPE[error.type]) names.push(FIELD_BY_TYPE[error.type]);
  let placed = false;
  for (const name of names) {
    const input = fieldFor(form, name);
    if (!input) continue;
    input.setAttribute('aria-invalid', 'true');
    const holder = input.closest('.field, .scope-row, fieldset') || input.parentNode;
    holder.append(el('p', { class: 'field-error', role: 'alert', 'data-for': name, 'data-type': error.type || null }, message));
    placed = true;
  }
  if (!placed) {
    form.prepend(el('p', { class: 'form-error', role: 'alert', 'data-type': error.type || null, title: error.type || null }, message));
  }
}

/** Shows an error at the top of the current screen (not a form). */
function screenError(error) {
  const main = document.getElementById('screen');
  if (!main) return;
  main.querySelectorAll(':scope > .form-error').forEach((n) => n.remove());
  const heading = main.querySelector('h2');
  const p = el('p', { class: 'form-error', role: 'alert' }, error.message || String(error));
  if (heading) heading.after(p); else main.prepend(p);
}

// ---------------------------------------------------------------------------
// The server: management API, /_local endpoints, token endpoint
// ---------------------------------------------------------------------------

const CSRF = (document.querySelector('meta[name="scopegate-csrf"]') || {}).content || '';
const VERSION = (document.querySelector('meta[name="scopegate-version"]') || {}).content || '';

async function readJson(response) {
  const text = await response.text();
  try { return text ? JSON.parse(text) : {}; } catch (_) { return { message: text }; }
}

/** One management call, Cognito's action and input. */
async function api(action, input) {
  const response = await fetch('/', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'X-Amz-Target': 'AWSCognitoIdentityProviderService.' + action,
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Scopegate-Csrf': CSRF,
    },
    body: JSON.stringify(input || {}),
  });
  const body = await readJson(response);
  if (!response.ok) {
    const type = String(body.__type || '').split('#').pop();
    throw staleCheck(new ApiError(type, body.message || body.Message || type, response.status,
      response.headers.get('x-scopegate-refused')));
  }
  return body;
}

/** A 403 for the CSRF token: the issuer restarted with a new one. Says so at
 *  the top, once; a reload gives the page the new token (not done for the
 *  user: a loop of reloads helps no one). */
function staleCheck(error) {
  if (error.status === 403 && error.refused === 'csrf-token'
      && !document.getElementById('stale-token')) {
    const where = document.getElementById('dev-notice');
    const banner = el('p', { id: 'stale-token', class: 'form-error', role: 'alert' }, 'The issuer was restarted: reload this page.');
    if (where) where.after(banner); else document.body.prepend(banner);
  }
  return error;
}

/** Every item of a List* action, following its pagination token to the end. */
async function listAll(action, input, itemsKey, tokenKey) {
  const items = [];
  let next;
  do {
    const page = await api(action, next ? Object.assign({}, input, { [tokenKey]: next }) : input);
    items.push(...(page[itemsKey] || []));
    next = page[tokenKey];
  } while (next);
  return items;
}

/** GET or POST on /_local/{pool}/...; JSON either way. */
async function local(poolId, path, options) {
  const opts = options || {};
  const headers = { 'X-Scopegate-Csrf': CSRF };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/_local/${encodeURIComponent(poolId)}/${path}`, {
    method: opts.method || 'GET',
    credentials: 'same-origin',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const body = await readJson(response);
  if (!response.ok) {
    const type = String(body.__type || body.error || '').split('#').pop();
    throw staleCheck(new ApiError(type, body.message || body.error || `HTTP ${response.status}`, response.status,
      response.headers.get('x-scopegate-refused')));
  }
  return body;
}

/** POST /oauth2/token; Basic auth when the client has a secret. */
async function tokenRequest(params, clientId, secret) {
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (secret) headers.Authorization = 'Basic ' + btoa(`${clientId}:${secret}`);
  else params = Object.assign({ client_id: clientId }, params); // a public client names itself
  const response = await fetch('/oauth2/token', {
    method: 'POST', headers, credentials: 'omit', body: new URLSearchParams(params).toString(),
  });
  const body = await readJson(response);
  if (!response.ok || !body.access_token) {
    throw new ApiError(body.error || '', [body.error, body.error_description].filter(Boolean).join(': ') || `HTTP ${response.status}`, response.status);
  }
  return body;
}

async function listResourceServers(poolId) {
  return listAll('ListResourceServers', { UserPoolId: poolId, MaxResults: 50 }, 'ResourceServers', 'NextToken');
}

async function listClients(poolId) {
  return listAll('ListUserPoolClients', { UserPoolId: poolId, MaxResults: 60 }, 'UserPoolClients', 'NextToken');
}

/** The pool's scopes as the issuer computes them: its discovery document's
 *  scopes_supported (the built-in ones and every active custom scope). */
async function supportedScopes(poolId) {
  const response = await fetch(`/${encodeURIComponent(poolId)}/.well-known/openid-configuration`, { credentials: 'omit' });
  const body = await readJson(response);
  if (!response.ok) throw new ApiError(body.__type || '', body.message || `HTTP ${response.status}`, response.status);
  return body.scopes_supported || [];
}

/** A scope set, what a scope screen needs: {servers} the resource servers
 *  (descriptions, grouping) and {supported} the pool's scopes (which exist). */
async function poolScopes(poolId) {
  const [servers, supported] = await Promise.all([listResourceServers(poolId), supportedScopes(poolId)]);
  return { servers, supported };
}

async function describeClient(poolId, clientId) {
  return (await api('DescribeUserPoolClient', { UserPoolId: poolId, ClientId: clientId })).UserPoolClient;
}

// ---------------------------------------------------------------------------
// Scopes: which exist is the issuer's answer (scopes_supported); the resource
// servers only give the custom ones their descriptions and order.
// ---------------------------------------------------------------------------

/** The OpenID Connect scopes: the supported ones that are not identifier/name. */
function oidcScopes(scopeSet) {
  return scopeSet.supported.filter((s) => !s.includes('/'));
}

/** [{scope: 'identifier/name', description, server}]: every supported custom
 *  scope, in the resource servers' order, with its description. */
function customScopes(scopeSet) {
  const out = [];
  for (const server of scopeSet.servers) {
    for (const s of server.Scopes || []) {
      const scope = `${server.Identifier}/${s.ScopeName}`;
      if (scopeSet.supported.includes(scope)) out.push({ scope, description: s.ScopeDescription || '', server: server.Name });
    }
  }
  for (const scope of scopeSet.supported) {
    if (scope.includes('/') && !out.some((c) => c.scope === scope)) out.push({ scope, description: '', server: '' });
  }
  return out;
}

/** A client's allowed scope that the pool does not support (any more). */
function isInactive(scope, scopeSet) {
  return !scopeSet.supported.includes(scope);
}

const INACTIVE_HINT = 'deleted from its resource server: left out of tokens until it is re-added; ' +
  'saving this client removes it (Cognito refuses scopes that do not exist)';

function scopeList(scopes, scopeSet) {
  if (!scopes || !scopes.length) return el('span', { class: 'muted' }, 'none');
  return el('ul', { class: 'scopes' }, scopes.map((s) => {
    const inactive = isInactive(s, scopeSet);
    return el('li', { 'data-scope': s, class: inactive ? 'inactive' : null },
      el('code', {}, s), inactive ? [' ', el('span', { class: 'badge inactive-badge' }, 'inactive')] : null);
  }));
}

// ---------------------------------------------------------------------------
// Routing: #/pools, #/pools/{id}/{tab}[/new | /edit/{key}]
// ---------------------------------------------------------------------------

const TABS = [
  ['resource-servers', 'Resource servers'],
  ['clients', 'App clients'],
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['messages', 'Messages'],
  ['workbench', 'Token workbench'],
  ['keys', 'Keys'],
];

let timers = [];
let poolNames = {};
let renders = 0; // a newer render wins over one still waiting for the API

function go(hash) {
  if (location.hash === hash) render(); else location.hash = hash;
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => {
    try { return decodeURIComponent(p); } catch (_) { return p; }
  });
  if (parts[0] !== 'pools' || !parts[1]) return { screen: 'pools' };
  return { screen: parts[2] || 'resource-servers', pool: parts[1], action: parts[3] || '', key: parts[4] || '' };
}

async function render() {
  timers.forEach(clearInterval);
  timers = [];
  const generation = ++renders;
  const route = parseRoute();
  const app = document.getElementById('app');
  const screen = el('section', { id: 'screen', 'data-screen': route.screen });
  const view = route.screen === 'pools' ? [] : [await poolHeader(route)];
  if (generation !== renders) return;
  app.replaceChildren(...view, screen);
  const screens = {
    pools: poolsScreen, 'resource-servers': resourceServersScreen, clients: clientsScreen,
    users: usersScreen, groups: groupsScreen, messages: messagesScreen,
    workbench: workbenchScreen, keys: keysScreen,
  };
  const show = screens[route.screen] || poolsScreen;
  try {
    await show(screen, route);
    if (generation !== renders) return;
  } catch (error) {
    screen.append(el('p', { class: 'form-error', role: 'alert' }, error.message || String(error)));
  }
  screen.setAttribute('data-ready', 'true');
}

async function poolHeader(route) {
  if (!poolNames[route.pool]) {
    try {
      const pool = (await api('DescribeUserPool', { UserPoolId: route.pool })).UserPool;
      poolNames[route.pool] = pool.Name;
    } catch (_) { /* the screen shows the API's error */ }
  }
  const base = `#/pools/${encodeURIComponent(route.pool)}`;
  return el('div', { class: 'pool-header' },
    el('p', { class: 'crumbs' }, el('a', { href: '#/pools' }, 'User pools'), ' / ',
      el('strong', { id: 'pool-name' }, poolNames[route.pool] || route.pool), ' ',
      el('code', { class: 'muted' }, route.pool)),
    el('nav', { class: 'tabs', 'aria-label': 'User pool' }, TABS.map(([id, label]) =>
      el('a', { href: `${base}/${id}`, 'data-tab': id, class: route.screen === id ? 'active' : null,
        'aria-current': route.screen === id ? 'page' : null }, label))));
}

// ---------------------------------------------------------------------------
// Screen: User pools
// ---------------------------------------------------------------------------

async function poolsScreen(screen) {
  const pools = await listAll('ListUserPools', { MaxResults: 60 }, 'UserPools', 'NextToken');
  const name = el('input', { id: 'pool-name-input', 'data-field': 'poolName', required: true, autocomplete: 'off' });
  const form = el('form', { id: 'create-pool', class: 'inline-form' },
    field('Pool name', name), el('button', { type: 'submit', id: 'create-pool-button' }, 'Create user pool'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const pool = (await api('CreateUserPool', { PoolName: name.value })).UserPool;
      poolNames[pool.Id] = pool.Name;
      go(`#/pools/${encodeURIComponent(pool.Id)}/resource-servers`);
    } catch (error) { showError(form, error); }
  });
  const rows = pools.map((p) => el('tr', { 'data-testid': 'pool-row', 'data-pool-id': p.Id },
    el('td', {}, el('a', { href: `#/pools/${encodeURIComponent(p.Id)}/resource-servers`, class: 'pool-link' }, p.Name)),
    el('td', {}, el('code', {}, p.Id)),
    el('td', {}, formatTime(p.CreationDate)),
    el('td', {}, button('Delete', async () => {
      if (!confirm(`Delete the user pool ${p.Name} (${p.Id})?`)) return;
      try { await api('DeleteUserPool', { UserPoolId: p.Id }); render(); } catch (e) { screenError(e); }
    }, { class: 'danger' }))));
  screen.append(el('h2', {}, 'User pools'), form,
    pools.length ? table(['Name', 'Pool ID', 'Created', ''], rows, { id: 'pools-table' })
      : el('p', { class: 'muted' }, 'No user pools yet.'));
}

// ---------------------------------------------------------------------------
// Screen: Resource servers (the seed's steps 3-9)
// ---------------------------------------------------------------------------

async function resourceServersScreen(screen, route) {
  if (route.action === 'new') return resourceServerForm(screen, route, null);
  if (route.action === 'edit') {
    const server = (await api('DescribeResourceServer', { UserPoolId: route.pool, Identifier: route.key })).ResourceServer;
    return resourceServerForm(screen, route, server);
  }
  const servers = await listResourceServers(route.pool);
  const base = `#/pools/${encodeURIComponent(route.pool)}/resource-servers`;
  screen.append(el('h2', {}, 'Resource servers'),
    button('Add a resource server', () => go(`${base}/new`), { id: 'add-resource-server', class: 'primary' }));
  if (!servers.length) screen.append(el('p', { class: 'muted' }, 'No resource servers yet.'));
  for (const server of servers) {
    const scopes = (server.Scopes || []).map((s) => el('tr', { 'data-scope': s.ScopeName },
      el('td', {}, el('code', {}, s.ScopeName)), el('td', {}, s.ScopeDescription || '')));
    screen.append(el('article', { class: 'card', 'data-testid': 'resource-server', 'data-identifier': server.Identifier },
      el('h3', {}, server.Name),
      el('p', {}, 'Identifier: ', el('code', { class: 'identifier' }, server.Identifier)),
      scopes.length ? table(['Scope name', 'Description'], scopes, { class: 'scope-table' })
        : el('p', { class: 'muted' }, 'No custom scopes.'),
      el('div', { class: 'actions' },
        button('Edit', () => go(`${base}/edit/${encodeURIComponent(server.Identifier)}`), { 'data-action': 'edit' }),
        button('Delete', async () => {
          if (!confirm(`Delete the resource server ${server.Name} (${server.Identifier})?`)) return;
          try { await api('DeleteResourceServer', { UserPoolId: route.pool, Identifier: server.Identifier }); render(); } catch (e) { screenError(e); }
        }, { class: 'danger', 'data-action': 'delete' }))));
  }
}

function scopeRow(scope) {
  const row = el('div', { class: 'scope-row', 'data-testid': 'scope-row' });
  const name = el('input', { name: 'scope-name', class: 'scope-name', value: scope ? scope.ScopeName : '', autocomplete: 'off' });
  const description = el('input', { name: 'scope-description', class: 'scope-description', value: scope ? scope.ScopeDescription || '' : '', autocomplete: 'off' });
  row.append(field('Scope name', name), field('Description', description),
    button('Remove', () => row.remove(), { class: 'remove-scope' }));
  return row;
}

function resourceServerForm(screen, route, server) {
  const base = `#/pools/${encodeURIComponent(route.pool)}/resource-servers`;
  const name = el('input', { id: 'rs-name', 'data-field': 'name', value: server ? server.Name : '', autocomplete: 'off' });
  const identifier = el('input', { id: 'rs-identifier', 'data-field': 'identifier', value: server ? server.Identifier : '',
    readOnly: Boolean(server), autocomplete: 'off', placeholder: 'com.example.photos' });
  const rows = el('div', { id: 'scope-rows' }, (server ? server.Scopes || [] : [null]).map(scopeRow));
  const form = el('form', { id: 'resource-server-form', novalidate: true },
    field('Name', name, 'A friendly name, for example Photo Server.'),
    field('Identifier', identifier, server ? 'The identifier cannot be changed.' : 'For example com.example.photos or https://photos.example.com.'),
    el('fieldset', {}, el('legend', {}, 'Custom scopes'), rows,
      button('Add another scope', () => rows.append(scopeRow(null)), { id: 'add-scope' })),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', id: 'save-resource-server' }, 'Save changes'),
      button('Cancel', () => go(base))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const scopes = [];
    for (const row of rows.querySelectorAll('.scope-row')) {
      const n = row.querySelector('.scope-name');
      const d = row.querySelector('.scope-description');
      n.removeAttribute('data-field');
      d.removeAttribute('data-field');
      if (!n.value && !d.value) continue; // an untouched empty row
      scopes.push({ ScopeName: n.value, ScopeDescription: d.value });
      n.setAttribute('data-field', `scopes.${scopes.length}.member.scopeName`);
      d.setAttribute('data-field', `scopes.${scopes.length}.member.scopeDescription`);
    }
    const input = { UserPoolId: route.pool, Identifier: identifier.value, Name: name.value, Scopes: scopes };
    try {
      await api(server ? 'UpdateResourceServer' : 'CreateResourceServer', input);
      go(base);
    } catch (error) { showError(form, error); }
  });
  screen.append(el('h2', {}, server ? 'Edit resource server' : 'Add a resource server'), form);
}

// ---------------------------------------------------------------------------
// Screen: App clients
// ---------------------------------------------------------------------------

const FLOWS = [['code', 'Authorization code grant'], ['implicit', 'Implicit grant'], ['client_credentials', 'Client credentials']];
const AUTH_FLOWS = ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'];

async function clientsScreen(screen, route) {
  if (route.action === 'new' || route.action === 'edit') return clientForm(screen, route);
  const base = `#/pools/${encodeURIComponent(route.pool)}/clients`;
  const [scopeSet, list] = await Promise.all([poolScopes(route.pool), listClients(route.pool)]);
  const clients = await Promise.all(list.map((c) => describeClient(route.pool, c.ClientId)));
  const rows = clients.map((c) => el('tr', { 'data-testid': 'client-row', 'data-client-id': c.ClientId },
    el('td', {}, el('a', { href: `${base}/edit/${encodeURIComponent(c.ClientId)}`, class: 'client-link' }, c.ClientName)),
    el('td', {}, el('code', {}, c.ClientId)),
    el('td', {}, (c.AllowedOAuthFlows || []).join(', ') || '—'),
    el('td', { class: 'client-scopes' }, scopeList(c.AllowedOAuthScopes, scopeSet)),
    el('td', {}, button('Delete', async () => {
      if (!confirm(`Delete the app client ${c.ClientName}?`)) return;
      try { await api('DeleteUserPoolClient', { UserPoolId: route.pool, ClientId: c.ClientId }); render(); } catch (e) { screenError(e); }
    }, { class: 'danger' }))));
  screen.append(el('h2', {}, 'App clients'),
    button('Create app client', () => go(`${base}/new`), { id: 'create-client', class: 'primary' }),
    rows.length ? table(['App client name', 'Client ID', 'OAuth flows', 'Allowed scopes', ''], rows, { id: 'clients-table' })
      : el('p', { class: 'muted' }, 'No app clients yet.'));
}

function copyField(label, value, id) {
  const input = el('input', { id, value, readOnly: true, class: 'copy-value' });
  const copy = button('Copy', async () => {
    try { await navigator.clipboard.writeText(value); copy.textContent = 'Copied'; } catch (_) {
      input.select(); document.execCommand('copy'); copy.textContent = 'Selected';
    }
  }, { 'data-copy': id });
  return el('div', { class: 'field copy' }, el('label', { for: id }, label), el('div', { class: 'row' }, input, copy));
}

function customScopeRows(scopeSet, allowed) {
  const known = customScopes(scopeSet);
  const rows = known.map((c) => el('div', { class: 'scope-choice', 'data-scope': c.scope },
    checkbox(el('code', {}, c.scope), { name: 'custom-scope', value: c.scope, checked: allowed.includes(c.scope) }),
    el('span', { class: 'muted description' }, c.description)));
  for (const scope of allowed.filter((s) => isInactive(s, scopeSet))) {
    rows.push(el('div', { class: 'scope-choice inactive', 'data-scope': scope, 'data-inactive': 'true' },
      checkbox(el('code', {}, scope), { name: 'custom-scope', value: scope, checked: true, disabled: true },
        el('span', { class: 'badge inactive-badge' }, 'inactive')),
      el('span', { class: 'hint' }, INACTIVE_HINT)));
  }
  if (!rows.length) rows.push(el('p', { class: 'muted' }, 'No resource server defines a scope yet (Resource servers tab).'));
  return rows;
}

async function clientForm(screen, route) {
  const base = `#/pools/${encodeURIComponent(route.pool)}/clients`;
  const editing = route.action === 'edit';
  const [scopeSet, client] = await Promise.all([poolScopes(route.pool),
    editing ? describeClient(route.pool, route.key) : Promise.resolve(null)]);
  const c = client || { AllowedOAuthFlows: [], AllowedOAuthScopes: [], CallbackURLs: [], LogoutURLs: [],
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] };
  const allowed = c.AllowedOAuthScopes || [];
  const name = el('input', { id: 'client-name', 'data-field': 'clientName', value: c.ClientName || '', autocomplete: 'off' });
  const secret = el('input', { type: 'checkbox', id: 'client-generate-secret', 'data-field': 'generateSecret',
    checked: editing ? Boolean(c.ClientSecret) : false, disabled: editing });
  const callbacks = el('textarea', { id: 'client-callbacks', 'data-field': 'callbackURLs', rows: 3 });
  callbacks.value = (c.CallbackURLs || []).join('\n');
  const logouts = el('textarea', { id: 'client-logouts', 'data-field': 'logoutURLs', rows: 2 });
  logouts.value = (c.LogoutURLs || []).join('\n');
  const consoleCallback = location.origin + '/console/callback';
  const form = el('form', { id: 'client-form', novalidate: true },
    field('App client name', name),
    el('div', { class: 'field' }, el('label', { class: 'check', for: 'client-generate-secret' }, secret, ' Generate a client secret'),
      editing ? el('p', { class: 'hint' }, 'A secret is chosen when the client is created.') : null),
    el('fieldset', { id: 'client-auth-flows' }, el('legend', {}, 'Authentication flows'),
      el('span', { 'data-field': 'explicitAuthFlows' }),
      AUTH_FLOWS.map((f) => checkbox(f, { name: 'auth-flow', value: f, checked: (c.ExplicitAuthFlows || []).includes(f) }))),
    el('fieldset', { id: 'client-oauth-flows' }, el('legend', {}, 'Allowed OAuth Flows'),
      el('span', { 'data-field': 'allowedOAuthFlows' }),
      FLOWS.map(([v, label]) => checkbox(label, { name: 'oauth-flow', value: v, checked: (c.AllowedOAuthFlows || []).includes(v) }))),
    field('Callback URL(s)', callbacks, 'One per line.'),
    button("Add the console's callback", () => {
      if (!lines(callbacks.value).includes(consoleCallback)) callbacks.value = lines(callbacks.value).concat(consoleCallback).join('\n');
    }, { id: 'add-console-callback' }),
    field('Sign out URL(s)', logouts, 'One per line.'),
    el('fieldset', { id: 'client-oidc-scopes' }, el('legend', {}, 'OpenID Connect scopes'),
      oidcScopes(scopeSet).map((s) => checkbox(el('code', {}, s), { name: 'oidc-scope', value: s, checked: allowed.includes(s) }))),
    el('fieldset', { id: 'client-custom-scopes' }, el('legend', {}, 'OAuth2.0 Allowed Custom Scopes'),
      el('span', { 'data-field': 'allowedOAuthScopes' }), customScopeRows(scopeSet, allowed)),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', id: 'save-client' }, 'Save changes'),
      button('Cancel', () => go(base))));
  form.addEventListener('submit', (event) => { event.preventDefault(); saveClient(form, route, client); });
  screen.append(el('h2', {}, editing ? 'App client: ' + c.ClientName : 'Create app client'));
  if (sessionStorage.getItem('scopegate.saved') === route.key && editing) {
    sessionStorage.removeItem('scopegate.saved');
    screen.append(notice('Changes saved.'));
  }
  if (editing) {
    screen.append(el('div', { class: 'card', id: 'client-credentials' }, copyField('Client ID', c.ClientId, 'client-id'),
      c.ClientSecret ? copyField('Client secret', c.ClientSecret, 'client-secret') : el('p', { class: 'muted' }, 'This client has no secret.')));
  }
  screen.append(form);
}

async function saveClient(form, route, client) {
  const flows = checkedValues(form, 'oauth-flow');
  const edited = {
    ClientName: form.querySelector('#client-name').value,
    ExplicitAuthFlows: checkedValues(form, 'auth-flow'),
    AllowedOAuthFlows: flows,
    AllowedOAuthFlowsUserPoolClient: flows.length > 0,
    AllowedOAuthScopes: checkedValues(form, 'oidc-scope').concat(checkedValues(form, 'custom-scope')),
    CallbackURLs: lines(form.querySelector('#client-callbacks').value),
    LogoutURLs: lines(form.querySelector('#client-logouts').value),
    SupportedIdentityProviders: ['COGNITO'],
  };
  try {
    let id;
    if (client) {
      // Cognito resets what an update leaves out: start from the description.
      const input = Object.assign({}, client, edited);
      for (const k of ['ClientSecret', 'CreationDate', 'LastModifiedDate']) delete input[k];
      await api('UpdateUserPoolClient', input);
      id = client.ClientId;
    } else {
      const input = Object.assign({ UserPoolId: route.pool, GenerateSecret: form.querySelector('#client-generate-secret').checked }, edited);
      id = (await api('CreateUserPoolClient', input)).UserPoolClient.ClientId;
    }
    sessionStorage.setItem('scopegate.saved', id);
    go(`#/pools/${encodeURIComponent(route.pool)}/clients/edit/${encodeURIComponent(id)}`);
  } catch (error) { showError(form, error); }
}

// ---------------------------------------------------------------------------
// Screen: Users
// ---------------------------------------------------------------------------

async function usersScreen(screen, route) {
  const pool = route.pool;
  const [users, groups] = await Promise.all([
    listAll('ListUsers', { UserPoolId: pool, Limit: 60 }, 'Users', 'PaginationToken'),
    listAll('ListGroups', { UserPoolId: pool, Limit: 60 }, 'Groups', 'NextToken'),
  ]);
  const memberships = await Promise.all(users.map((u) =>
    listAll('AdminListGroupsForUser', { UserPoolId: pool, Username: u.Username, Limit: 60 }, 'Groups', 'NextToken')));
  screen.append(el('h2', {}, 'Users'), createUserForm(pool));
  const act = (action, extra) => async () => {
    try { await api(action, Object.assign({ UserPoolId: pool }, extra)); render(); } catch (e) { screenError(e); }
  };
  const rows = users.map((u, i) => {
    const attr = (n) => ((u.Attributes || []).find((a) => a.Name === n) || {}).Value || '';
    const mine = memberships[i].map((g) => g.GroupName);
    const select = el('select', { class: 'group-select', 'aria-label': `Group for ${u.Username}` },
      groups.filter((g) => !mine.includes(g.GroupName)).map((g) => el('option', { value: g.GroupName }, g.GroupName)));
    const username = { Username: u.Username };
    return el('tr', { 'data-testid': 'user-row', 'data-username': u.Username },
      el('td', {}, u.Username), el('td', {}, attr('email')),
      el('td', { class: 'status' }, u.UserStatus || ''), el('td', { class: 'enabled' }, u.Enabled === false ? 'disabled' : 'enabled'),
      el('td', { class: 'groups' }, mine.map((g) => el('span', { class: 'badge group', 'data-group': g }, g, ' ',
        button('Remove', act('AdminRemoveUserFromGroup', { Username: u.Username, GroupName: g }), { class: 'link', 'aria-label': `Remove from ${g}` })))),
      el('td', { class: 'actions' },
        u.UserStatus === 'UNCONFIRMED' ? button('Confirm', act('AdminConfirmSignUp', username)) : null,
        u.Enabled === false ? button('Enable', act('AdminEnableUser', username)) : button('Disable', act('AdminDisableUser', username)),
        select.options.length ? el('span', { class: 'row' }, select, button('Add to group', () =>
          act('AdminAddUserToGroup', { Username: u.Username, GroupName: select.value })(), { class: 'add-to-group' })) : null,
        button('Delete', () => { if (confirm(`Delete the user ${u.Username}?`)) act('AdminDeleteUser', username)(); }, { class: 'danger' })));
  });
  screen.append(rows.length ? table(['Username', 'Email', 'Status', 'Enabled', 'Groups', ''], rows, { id: 'users-table' })
    : el('p', { class: 'muted' }, 'No users yet.'));
}

/** AdminSetUserPassword's message names the field 'password' only sometimes:
 *  put it next to the Password field either way. */
function passwordError(form, password, error) {
  const holder = password.closest('.field');
  clearErrors(form);
  password.setAttribute('aria-invalid', 'true');
  holder.append(el('p', { class: 'field-error', role: 'alert', 'data-for': 'password', 'data-type': error.type || null }, error.message));
}

function createUserForm(pool) {
  const username = el('input', { id: 'user-username', 'data-field': 'username', autocomplete: 'off' });
  const email = el('input', { id: 'user-email', type: 'email', autocomplete: 'off' });
  const password = el('input', { id: 'user-password', type: 'password', 'data-field': 'password', autocomplete: 'new-password' });
  const temporary = el('input', { type: 'radio', name: 'password-kind', value: 'temporary', id: 'password-temporary', checked: true });
  const permanent = el('input', { type: 'radio', name: 'password-kind', value: 'permanent', id: 'password-permanent' });
  const form = el('form', { id: 'create-user', class: 'card', novalidate: true },
    el('h3', {}, 'Create user'),
    field('Username', username), field('Email (optional)', email),
    field('Password', password, 'A temporary password may be left empty: the issuer chooses one (see Messages).'),
    el('div', { class: 'field', 'data-field': 'temporaryPassword' },
      el('label', { class: 'check' }, temporary, ' Temporary password'),
      el('label', { class: 'check' }, permanent, ' Permanent password')),
    el('button', { type: 'submit', class: 'primary', id: 'create-user-button' }, 'Create user'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = { UserPoolId: pool, Username: username.value };
    if (email.value) input.UserAttributes = [{ Name: 'email', Value: email.value }];
    if (temporary.checked && password.value) input.TemporaryPassword = password.value;
    if (permanent.checked) input.MessageAction = 'SUPPRESS';
    try {
      await api('AdminCreateUser', input);
    } catch (error) { showError(form, error); return; }
    if (permanent.checked) {
      try {
        await api('AdminSetUserPassword', { UserPoolId: pool, Username: input.Username, Password: password.value, Permanent: true });
      } catch (error) {
        // No half-made user: the password was refused, so the user goes too.
        await api('AdminDeleteUser', { UserPoolId: pool, Username: input.Username }).catch(() => {});
        passwordError(form, password, error);
        return;
      }
    }
    render();
  });
  return form;
}

// ---------------------------------------------------------------------------
// Screen: Groups
// ---------------------------------------------------------------------------

async function groupsScreen(screen, route) {
  const pool = route.pool;
  const groups = await listAll('ListGroups', { UserPoolId: pool, Limit: 60 }, 'Groups', 'NextToken');
  const members = await Promise.all(groups.map((g) =>
    listAll('ListUsersInGroup', { UserPoolId: pool, GroupName: g.GroupName, Limit: 60 }, 'Users', 'NextToken')));
  const name = el('input', { id: 'group-name', 'data-field': 'groupName', autocomplete: 'off' });
  const description = el('input', { id: 'group-description', 'data-field': 'description', autocomplete: 'off' });
  const form = el('form', { id: 'create-group', class: 'card', novalidate: true },
    el('h3', {}, 'Create group'), field('Group name', name), field('Description', description),
    el('button', { type: 'submit', class: 'primary', id: 'create-group-button' }, 'Create group'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = { UserPoolId: pool, GroupName: name.value };
    if (description.value) input.Description = description.value;
    try { await api('CreateGroup', input); render(); } catch (error) { showError(form, error); }
  });
  const rows = groups.map((g, i) => el('tr', { 'data-testid': 'group-row', 'data-group': g.GroupName },
    el('td', {}, g.GroupName), el('td', {}, g.Description || ''),
    el('td', { class: 'members' }, members[i].map((u) => u.Username).join(', ') || '—'),
    el('td', {}, button('Delete', async () => {
      if (!confirm(`Delete the group ${g.GroupName}?`)) return;
      try { await api('DeleteGroup', { UserPoolId: pool, GroupName: g.GroupName }); render(); } catch (e) { screenError(e); }
    }, { class: 'danger' }))));
  screen.append(el('h2', {}, 'Groups'), form,
    rows.length ? table(['Group name', 'Description', 'Members', ''], rows, { id: 'groups-table' })
      : el('p', { class: 'muted' }, 'No groups yet.'));
}

// ---------------------------------------------------------------------------
// Screen: Messages (what Cognito would have e-mailed or texted)
// ---------------------------------------------------------------------------

async function messagesScreen(screen, route) {
  const messages = ((await local(route.pool, 'messages')).Messages || []).slice()
    .sort((a, b) => Number(b.timestamp || 0) - Number(a.timestamp || 0));
  const rows = messages.map((m) => el('tr', { 'data-testid': 'message-row', 'data-username': m.username },
    el('td', {}, formatTime(m.timestamp)), el('td', {}, m.username || ''), el('td', {}, m.reason || ''),
    el('td', {}, m.destination || '—'), el('td', {}, el('code', {}, m.code || '')),
    el('td', {}, el('code', {}, m.temporaryPassword || ''))));
  screen.append(el('h2', {}, 'Messages'),
    el('p', { class: 'muted' }, 'What Cognito would have e-mailed or texted; the issuer sends nothing.'),
    button('Refresh', () => render(), { id: 'refresh-messages' }),
    rows.length ? table(['Time', 'Username', 'Reason', 'Destination', 'Code', 'Temporary password'], rows, { id: 'messages-table' })
      : el('p', { class: 'muted' }, 'No messages yet.'));
}

// ---------------------------------------------------------------------------
// Screen: Token workbench
// ---------------------------------------------------------------------------

const TOKEN_KEY = (pool) => `scopegate.token.${pool}`;
const PKCE_KEY = (state) => `scopegate.pkce.${state}`;

function decodePart(part) {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function decodeToken(token) {
  const parts = String(token).trim().split('.');
  if (parts.length !== 3) throw new Error('This is not a JWT (three base64url parts separated by dots).');
  return { header: decodePart(parts[0]), claims: decodePart(parts[1]) };
}

function expiryText(exp) {
  const left = Math.floor(Number(exp) - Date.now() / 1000);
  if (!Number.isFinite(left)) return 'no exp claim';
  if (left <= 0) return 'expired';
  const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
  return 'expires in ' + (h ? `${h}h ` : '') + `${m}m ${s}s`;
}

async function workbenchScreen(screen, route) {
  const pool = route.pool;
  const [scopeSet, clients] = await Promise.all([poolScopes(pool), listClients(pool)]);
  const clientSelect = el('select', { id: 'wb-client' }, el('option', { value: '' }, '(choose an app client)'),
    clients.map((c) => el('option', { value: c.ClientId }, `${c.ClientName} (${c.ClientId})`)));
  const clientPanel = el('div', { id: 'wb-client-panel' });
  const tokenPanel = el('div', { id: 'wb-token' });
  const paste = el('textarea', { id: 'wb-paste', rows: 3, placeholder: 'eyJ...' });
  const pasteForm = el('form', { id: 'wb-paste-form' }, field('Or paste a token', paste),
    el('button', { type: 'submit', id: 'wb-use-token' }, 'Use this token'));
  pasteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    showToken(tokenPanel, pool, scopeSet, paste.value.trim(), 'pasted');
  });
  clientSelect.addEventListener('change', () => clientChosen(clientPanel, tokenPanel, pool, scopeSet, clientSelect.value));
  screen.append(el('h2', {}, 'Token workbench'),
    el('div', { class: 'card' }, field('App client', clientSelect), clientPanel), el('div', { class: 'card' }, pasteForm), tokenPanel);
  const stored = sessionStorage.getItem(TOKEN_KEY(pool));
  if (stored) {
    const { token, source } = JSON.parse(stored);
    showToken(tokenPanel, pool, scopeSet, token, source);
  }
}

async function clientChosen(panel, tokenPanel, pool, scopeSet, clientId) {
  panel.replaceChildren();
  if (!clientId) return;
  const client = await describeClient(pool, clientId).catch((e) => { panel.append(el('p', { class: 'form-error' }, e.message)); });
  if (!client) return;
  const allowed = client.AllowedOAuthScopes || [];
  const custom = allowed.filter((s) => !oidcScopes(scopeSet).includes(s));
  const active = custom.filter((s) => !isInactive(s, scopeSet));
  const inactive = custom.filter((s) => isInactive(s, scopeSet));
  const scopes = el('fieldset', { id: 'wb-scopes' }, el('legend', {}, 'Scopes to ask for'),
    active.length ? active.map((s) => checkbox(el('code', {}, s), { name: 'wb-scope', value: s, checked: true }))
      : el('p', { class: 'muted' }, 'This client is allowed no active custom scope.'),
    inactive.map((s) => el('p', { class: 'hint' }, el('code', {}, s), ' ', el('span', { class: 'badge inactive-badge' }, 'inactive'), ' ', INACTIVE_HINT)),
    el('p', { class: 'hint' }, 'With none ticked, the request sends no scope parameter and the issuer grants the client\'s allowed active scopes.'));
  const get = button('Get token', async () => {
    const params = { grant_type: 'client_credentials' };
    const chosen = checkedValues(scopes, 'wb-scope');
    if (chosen.length) params.scope = chosen.join(' ');
    tokenPanel.replaceChildren(el('p', { class: 'muted' }, 'Asking the token endpoint…'));
    try {
      const body = await tokenRequest(params, client.ClientId, client.ClientSecret);
      showToken(tokenPanel, pool, scopeSet, body.access_token, 'client credentials');
    } catch (e) {
      // The issuer's own answer (error and error_description), verbatim.
      tokenPanel.replaceChildren(el('p', { class: 'form-error', role: 'alert', id: 'token-error', 'data-error': e.type || null },
        'The token endpoint refused: ' + e.message));
    }
  }, { id: 'wb-get-token', class: 'primary' });
  panel.append(scopes, el('div', { class: 'actions' }, get, hostedSignIn(pool, client, scopeSet)));
}

function hostedSignIn(pool, client, scopeSet) {
  const redirect = location.origin + '/console/callback';
  const hasCallback = (client.CallbackURLs || []).includes(redirect);
  const hasCode = (client.AllowedOAuthFlows || []).includes('code');
  if (!hasCallback || !hasCode) {
    return el('span', { class: 'hint', id: 'wb-hosted-note' },
      `Hosted sign-in: allow the Authorization code grant and add ${redirect} to this client's callback URLs ` +
      `("Add the console's callback" on the App clients tab).`);
  }
  return button('Open hosted sign-in', async () => {
    const verifier = randomString(48);
    const state = randomString(16);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const challenge = base64url(digest);
    const scope = (client.AllowedOAuthScopes || []).filter((s) => !isInactive(s, scopeSet)).join(' ');
    // localStorage: the sign-in's tab shares no sessionStorage or opener with
    // this one (Cross-Origin-Opener-Policy), only the origin's storage.
    localStorage.setItem(PKCE_KEY(state), JSON.stringify({ verifier, pool, client: client.ClientId, redirect }));
    const query = new URLSearchParams({ response_type: 'code', client_id: client.ClientId, redirect_uri: redirect,
      scope, state, code_challenge: challenge, code_challenge_method: 'S256' });
    window.open('/oauth2/authorize?' + query.toString(), '_blank');
  }, { id: 'wb-hosted' });
}

function randomString(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function showToken(panel, pool, scopeSet, token, source) {
  timers.forEach(clearInterval);
  timers = [];
  let decoded;
  try { decoded = decodeToken(token); } catch (e) {
    panel.replaceChildren(el('p', { class: 'form-error', role: 'alert' }, e.message));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY(pool), JSON.stringify({ token, source }));
  const { header, claims } = decoded;
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
  const expiry = el('span', { id: 'token-expiry' }, expiryText(claims.exp));
  timers.push(setInterval(() => { expiry.textContent = expiryText(claims.exp); }, 1000));
  panel.replaceChildren(el('div', { class: 'card', id: 'token-card' },
    el('h3', {}, `Token (${source})`),
    el('p', {}, el('strong', {}, 'Expiry: '), expiry, ' ', el('span', { class: 'muted' }, claims.exp ? `(${formatTime(claims.exp)})` : '')),
    el('h4', {}, 'Scopes in the token'),
    el('ul', { id: 'token-scopes', class: 'scopes' }, scopes.map((s) => el('li', {}, s))),
    scopes.length ? null : el('p', { class: 'muted', id: 'token-no-scope' }, 'The token has no scope claim.'),
    el('div', { class: 'columns' },
      el('div', {}, el('h4', {}, 'Header'), el('pre', { id: 'token-header' }, JSON.stringify(header, null, 2))),
      el('div', {}, el('h4', {}, 'Claims'), el('pre', { id: 'token-claims' }, JSON.stringify(claims, null, 2)))),
    copyField('The token', token, 'token-raw'),
    verifyForm(pool, scopeSet, token)));
}

function verifyForm(pool, scopeSet, token) {
  const select = el('select', { id: 'wb-verify-scope' }, el('option', { value: '' }, '(any valid token)'),
    customScopes(scopeSet).map((c) => el('option', { value: c.scope }, c.scope)));
  const result = el('div', { id: 'verify-result', 'aria-live': 'polite' });
  const form = el('form', { id: 'wb-verify' }, el('h4', {}, "The project's verifier"), field('Required scope', select),
    el('button', { type: 'submit', id: 'wb-verify-button' }, 'Verify'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    result.replaceChildren(el('span', { class: 'muted' }, 'Verifying…'));
    try {
      const answer = await local(pool, 'verify', { method: 'POST', body: { token, scope: select.value } });
      result.replaceChildren(verifyAnswer(answer, select.value));
    } catch (e) {
      result.replaceChildren(el('p', { class: 'form-error', role: 'alert' }, e.message));
    }
  });
  return form;
}

function verifyAnswer(answer, scope) {
  const what = scope ? `for ${scope}` : 'as any valid token';
  if (answer.accepted) return el('p', { class: 'accepted', 'data-accepted': 'true' }, `Accepted by the verifier (${what})`);
  return el('div', { class: 'refused', 'data-accepted': 'false' },
    el('p', {}, `Refused: ${answer.status} ${answer.error || ''}`.trim() + ` (${what})`),
    answer.www_authenticate ? el('p', {}, 'WWW-Authenticate: ', el('code', { class: 'www-authenticate' }, answer.www_authenticate)) : null,
    answer.detail ? el('p', { class: 'muted' }, answer.detail) : null);
}

// ---------------------------------------------------------------------------
// Screen: Keys
// ---------------------------------------------------------------------------

async function keysScreen(screen, route) {
  const body = await local(route.pool, 'keys');
  const keys = body.Keys || [];
  const grace = el('input', { id: 'keys-grace', type: 'number', min: 0, step: 1, value: 3600, required: true, 'data-field': 'grace_seconds' });
  const form = el('form', { id: 'rotate-key', class: 'inline-form' }, field('Grace period (seconds)', grace,
    'The old key stays in the JWKS this long, so tokens it signed still verify.'),
    el('button', { type: 'submit', class: 'primary', id: 'rotate-key-button' }, 'Rotate signing key'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    // required + min=0 stop an empty or negative value in the browser; never
    // turn an empty one into 0 (no grace: tokens of the old key stop verifying).
    if (grace.value.trim() === '' || !grace.checkValidity()) {
      showError(form, new ApiError('', grace.validationMessage || 'Give a grace period in seconds.', 0));
      return;
    }
    try {
      await local(route.pool, `rotate-key?grace_seconds=${encodeURIComponent(grace.value.trim())}`, { method: 'POST' });
      render();
    } catch (error) { showError(form, error); }
  });
  const rows = keys.map((k) => el('tr', { 'data-testid': 'key-row', 'data-kid': k.kid, 'data-signing': String(Boolean(k.signing)) },
    el('td', {}, el('code', {}, k.kid)), el('td', {}, k.alg || ''), el('td', {}, k.kty || ''),
    el('td', { class: 'signing' }, k.signing ? 'yes' : 'no'),
    el('td', { class: 'retires' }, k.retires_at ? formatTime(k.retires_at) : '—')));
  screen.append(el('h2', {}, 'Keys'),
    body.jwks_uri ? el('p', {}, 'JWKS: ', /^https?:\/\//.test(body.jwks_uri)
      ? el('a', { href: body.jwks_uri, id: 'jwks-uri' }, body.jwks_uri) : el('code', {}, body.jwks_uri)) : null,
    table(['Key ID (kid)', 'Algorithm', 'Type', 'Signing', 'Retires at'], rows, { id: 'keys-table' }), form);
}

// ---------------------------------------------------------------------------
// The hosted sign-in's return: /console/callback?code=..&state=..
// ---------------------------------------------------------------------------

// RFC 6749 4.1.2.1's error codes: the only error text from the query shown
// (error_description is anyone's text: a link from another site can carry it).
const OAUTH_ERRORS = ['invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type',
  'invalid_scope', 'server_error', 'temporarily_unavailable'];

/** The saved PKCE data of the sign-in with that state, removed as it is read. */
function takePkce(state) {
  if (!state) return null;
  const key = PKCE_KEY(state);
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(key) || 'null'); } catch (_) { saved = null; }
  localStorage.removeItem(key);
  return saved;
}

async function handleCallback() {
  const app = document.getElementById('app');
  const params = new URLSearchParams(location.search);
  const saved = takePkce(params.get('state'));
  const fail = (text) => app.replaceChildren(el('section', { id: 'screen', 'data-screen': 'callback', 'data-ready': 'true' },
    el('h2', {}, 'Hosted sign-in'),
    el('p', { class: 'form-error', role: 'alert', id: 'callback-error' }, text),
    el('p', {}, el('a', { href: '/console#/pools' }, 'Back to the console'))));
  if (!saved) return fail('This sign-in was not started by this console.');
  const error = params.get('error');
  if (error) {
    return fail(OAUTH_ERRORS.includes(error) ? `The sign-in ended with the error ${error}.` : 'The sign-in ended with an error.');
  }
  try {
    const client = await describeClient(saved.pool, saved.client);
    const body = await tokenRequest({ grant_type: 'authorization_code', code: params.get('code') || '',
      redirect_uri: saved.redirect, client_id: saved.client, code_verifier: saved.verifier }, saved.client, client.ClientSecret);
    sessionStorage.setItem(TOKEN_KEY(saved.pool), JSON.stringify({ token: body.access_token, source: 'hosted sign-in' }));
    location.replace(`/console#/pools/${encodeURIComponent(saved.pool)}/workbench`);
  } catch (e) { fail('The token endpoint refused the code: ' + e.message); }
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

function start() {
  const version = document.getElementById('version');
  if (version && VERSION && !VERSION.startsWith('__')) version.textContent = 'v' + VERSION;
  if (location.pathname === '/console/callback') return handleCallback();
  if (!location.hash) history.replaceState(null, '', '#/pools');
  window.addEventListener('hashchange', render);
  return render();
}

start();
