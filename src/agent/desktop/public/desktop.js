// @ts-check
/**
 * The Toneguard agent desktop (`/desktop/`) and its embeddable widget (`/desktop/widget`): one
 * script, two layouts. It only ever holds redacted views: digit counts, brand, last four and the
 * token. The DOM is built with createElement/textContent, never from HTML strings.
 */

/**
 * @typedef {{ name: string, kind: string, state: string, digitCount: number, valid: boolean | null,
 *   error: string | null, attempts: number, maxAttempts: number, brand?: string, last4?: string }} FieldView
 * @typedef {{ token: string, brand?: string, last4?: string }} CaptureResult
 * @typedef {{ id: string, callSid: string, state: string, currentField: string | null, fields: FieldView[],
 *   result: CaptureResult | null, error: { code: string, message: string } | null, createdAt: string, version: number }} CaptureView
 * @typedef {{ callSid: string, agentId?: string, from?: string, state: string, startedAt: string }} CallRecord
 * @typedef {{ devTokens: boolean, embedOrigins: string[] }} Settings
 * @typedef {{ name: string, row: HTMLLIElement, dots: HTMLSpanElement, brand: HTMLSpanElement,
 *   check: HTMLSpanElement, error: HTMLSpanElement, reset: HTMLButtonElement }} FieldRow
 */

const TOKEN_KEY = 'toneguard.token';
/** The widget is the same page served at `/desktop/widget`, laid out compactly for an iframe. */
const WIDGET = location.pathname.endsWith('/widget');
/** Reconnect backoff bounds for the events socket (ms). */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 15_000;
const POLL_MS = 2_000;
/** A socket silent for this long (over two missed heartbeats) is presumed dead and replaced. */
const SILENCE_MS = 40_000;
/** A digit count beyond any real field; bounds the dots drawn whatever the server says. */
const MAX_DOTS = 32;

/** @type {Record<string, string[]>} */
const CAPTURE_FIELDS = { card: ['card_number', 'expiry', 'cvv'], id: ['ssn'] };

/** @type {Record<string, string>} */
const FIELD_LABELS = {
  card_number: 'card number',
  expiry: 'expiry date',
  cvv: 'security code',
  postal_code: 'postal code',
  routing_number: 'routing number',
  account_number: 'account number',
  ssn: 'social security number',
};

/** Stable error codes from the API, the events socket and field views, as sentences for the agent. */
/** @type {Record<string, string>} */
const MESSAGES = {
  timeout: 'The caller took too long to key the digits. Reset the field or start again.',
  invalid_luhn: 'That card number is not valid. Ask the caller to key it again.',
  invalid_expiry: 'That expiry date is in the past or not a real month.',
  invalid_cvv: 'The security code has the wrong number of digits for this card.',
  invalid_length: 'The caller keyed the wrong number of digits.',
  invalid_ssn: 'That is not a valid social security number.',
  invalid_checksum: 'That number fails its check digit. Ask the caller to key it again.',
  too_many_attempts: 'Too many wrong attempts: the capture has stopped. Start a new one if the caller agrees.',
  capture_active: 'A capture is already running on this call.',
  capture_in_progress: 'A capture is already running on this call.',
  capture_not_active: 'This capture has already finished.',
  capture_not_found: 'This capture no longer exists.',
  field_not_found: 'This capture has no such field.',
  call_not_found: 'This call has ended.',
  agent_cancelled: 'The capture was cancelled.',
  call_ended: 'The call ended before the capture finished.',
  unauthenticated: 'Your sign-in is not valid or has expired. Please sign in again.',
  forbidden: 'You are not allowed to do that on this call.',
  rate_limited: 'Too many requests. Wait a minute and try again.',
  invalid_request: 'Toneguard refused the request as malformed.',
  malformed_body: 'Toneguard refused the request as malformed.',
  not_found: 'Toneguard does not know that address. Reload the page.',
  network: 'Toneguard cannot be reached. Check your connection.',
};

/** @type {Record<number, string>} */
const STATUS_CODES = { 401: 'unauthenticated', 403: 'forbidden', 429: 'rate_limited' };

/** @param {string} code */
function sentence(code) {
  const known = MESSAGES[code];
  if (known) return known;
  return /^[a-z_]{1,48}$/.test(code) ? `Something went wrong (${code}).` : 'Something went wrong.';
}

/** The only way a card number reaches the screen: its last four digits at most. */
/** @param {string | undefined} last4 */
function lastFour(last4) {
  return String(last4 ?? '').replace(/\D/g, '').slice(-4);
}

/** @param {string} name */
function fieldLabel(name) {
  return FIELD_LABELS[name] ?? name.replace(/_/g, ' ');
}

class ApiError extends Error {
  /** @param {string} code @param {number} status */
  constructor(code, status) {
    super(code);
    this.code = code;
    this.status = status;
  }
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{ className?: string, text?: string, attrs?: Record<string, string> }} [options]
 * @param {Node[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, options = {}, children = []) {
  const el = document.createElement(tag);
  if (options.className) el.className = options.className;
  if (options.text !== undefined) el.textContent = options.text;
  for (const [name, value] of Object.entries(options.attrs ?? {})) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

/** @param {string} text @param {string} [type] */
function button(text, type = 'button') {
  return h('button', { text, attrs: { type } });
}

/** A labelled input: the label wraps nothing, it points at the input by id. */
/** @param {string} id @param {string} label @param {HTMLInputElement | HTMLSelectElement} control */
function labelled(id, label, control) {
  control.id = id;
  return h('div', { className: 'control' }, [h('label', { text: label, attrs: { for: id } }), control]);
}

// ---- state ----------------------------------------------------------------------------------

const state = {
  /** @type {string | null} */ token: null,
  /** @type {string[]} */ roles: [],
  /** @type {Settings} */ settings: { devTokens: false, embedOrigins: [] },
  /** @type {Map<string, CallRecord>} */ calls: new Map(),
  /** @type {Map<string, CaptureView>} */ views: new Map(),
  /** @type {string | null} */ selectedCall: null,
  /** @type {WebSocket | null} */ socket: null,
  socketOpen: false,
  /** When the socket last spoke; heartbeats come every 15 s. */
  lastEventAt: 0,
  retries: 0,
  /** @type {ReturnType<typeof setTimeout> | undefined} */ reconnectTimer: undefined,
  /** @type {ReturnType<typeof setInterval> | undefined} */ pollTimer: undefined,
  /** Capture ids already reported to the embedding page. */
  /** @type {Set<string>} */ reported: new Set(),
};

// ---- the DOM --------------------------------------------------------------------------------

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
if (WIDGET) {
  document.body.classList.replace('layout-desktop', 'layout-widget');
  document.title = 'Toneguard capture';
  /** @type {HTMLElement} */ (document.getElementById('app-title')).textContent = 'Toneguard capture';
}

const statusRegion = h('p', { className: 'status', attrs: { 'aria-live': 'polite', 'aria-atomic': 'true' } });
const alertBox = h('p', { className: 'alert', attrs: { role: 'alert' } });

const tokenInput = h('input', { attrs: { type: 'password', autocomplete: 'off', spellcheck: 'false' } });
const pasteForm = h('form', { className: 'signin' }, [labelled('token', 'Access token (JWT)', tokenInput), button('Sign in', 'submit')]);

const devSub = h('input', { attrs: { type: 'text', autocomplete: 'off', value: 'alice' } });
const devRole = h('select', {}, ['agent', 'supervisor'].map((r) => h('option', { text: r, attrs: { value: r } })));
const devForm = h('form', { className: 'signin dev' }, [
  h('p', { className: 'hint', text: 'Development only: get a token from the local issuer.' }),
  labelled('dev-sub', 'Agent ID', devSub),
  labelled('dev-role', 'Role', devRole),
  button('Get dev token', 'submit'),
]);
devForm.hidden = true;
const signInSection = h('section', { className: 'panel', attrs: { 'aria-labelledby': 'signin-title' } }, [
  h('h2', { text: 'Sign in', attrs: { id: 'signin-title' } }),
  pasteForm,
  devForm,
]);

const whoText = h('span', { className: 'who' });
const connectionText = h('span', { className: 'connection' });
const signOutButton = button('Sign out');
const sessionBar = h('div', { className: 'session' }, [whoText, connectionText, signOutButton]);

const callSelect = h('select');
const callChooser = labelled('call-select', 'Call', callSelect);
const callText = h('p', { className: 'call', text: 'No active call.' });
const captureCardButton = button('Capture card');
const captureIdButton = button('Capture ID');
const callSection = h('section', { className: 'panel', attrs: { 'aria-labelledby': 'call-title' } }, [
  h('h2', { text: 'Call', attrs: { id: 'call-title' } }),
  callChooser,
  callText,
  h('div', { className: 'actions' }, [captureCardButton, captureIdButton]),
]);

const captureStateText = h('p', { className: 'capture-state' });
const fieldList = h('ul', { className: 'fields' });
const resultBrand = h('dd');
const resultLast4 = h('dd');
const resultToken = h('input', { className: 'token', attrs: { type: 'text', readonly: '' } });
const copyButton = button('Copy token');
const resultBox = h('div', { className: 'result' }, [
  h('dl', {}, [h('dt', { text: 'Brand' }), resultBrand, h('dt', { text: 'Card ending' }), resultLast4]),
  labelled('result-token', 'Token', resultToken),
  copyButton,
]);
const cancelButton = button('Cancel capture');
const captureSection = h('section', { className: 'panel capture', attrs: { 'aria-labelledby': 'capture-title' } }, [
  h('h2', { text: 'Capture', attrs: { id: 'capture-title' } }),
  captureStateText,
  fieldList,
  resultBox,
  h('div', { className: 'actions' }, [cancelButton]),
]);
const note = h('p', { className: 'note', text: 'A ✓ means the number is well-formed, not that the payment is authorised.' });
const workspace = h('div', { className: 'workspace' }, [sessionBar, callSection, captureSection, note]);

app.append(alertBox, statusRegion, signInSection, workspace);

// ---- messages to the agent --------------------------------------------------------------------

/** @param {string} text */
function announce(text) {
  statusRegion.textContent = text;
}

/** @param {string} code @param {string} [field] the field it concerns, if any */
function showError(code, field) {
  alertBox.textContent = field ? `${field}: ${sentence(code)}` : sentence(code);
}

function clearError() {
  alertBox.textContent = '';
}

// ---- the REST API -----------------------------------------------------------------------------

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, cache: 'no-store', credentials: 'omit', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError('network', 0);
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(data?.error?.code ?? STATUS_CODES[res.status] ?? `http_${res.status}`, res.status);
  return data;
}

/** Runs an agent action with its button disabled, turning failures into readable errors. */
/** @param {HTMLButtonElement} control @param {() => Promise<void>} action */
async function act(control, action) {
  control.disabled = true;
  clearError();
  try {
    await action();
  } catch (err) {
    const code = err instanceof ApiError ? err.code : 'network';
    showError(code);
    if (code === 'unauthenticated') signOut();
  } finally {
    control.disabled = false;
    render();
  }
}

// ---- signing in and out -----------------------------------------------------------------------

/** @param {string} token */
async function signIn(token) {
  state.token = token;
  const me = await api('GET', '/v1/me').catch((err) => {
    state.token = null;
    throw err;
  });
  state.roles = me.roles;
  whoText.textContent = `Signed in as ${me.sub} (${me.roles.join(', ') || 'no role'})`;
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenInput.value = '';
  for (const call of me.calls ?? []) state.calls.set(call.callSid, call);
  announce(`Signed in as ${me.sub}.`);
  connectEvents();
  clearInterval(state.pollTimer);
  state.pollTimer = setInterval(poll, POLL_MS);
  render();
}

function signOut() {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(state.pollTimer);
  dropSocket();
  state.calls.clear();
  state.views.clear();
  state.selectedCall = null;
  render();
}

// ---- live state: the events socket, with polling while it is down ------------------------------

/** Closes the events socket, if any, so that its late events and its close are ignored. */
function dropSocket() {
  clearTimeout(state.reconnectTimer);
  const socket = state.socket;
  state.socket = null;
  state.socketOpen = false;
  socket?.close(1000);
}

function connectEvents() {
  dropSocket();
  if (!state.token) return;
  const url = new URL('/v1/events', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url, ['toneguard.v1']);
  const token = state.token;
  state.socket = socket;
  // The token goes in the first message, so it is in no URL and no handshake header.
  socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
  socket.addEventListener('message', (event) => {
    if (state.socket !== socket) return;
    state.lastEventAt = Date.now();
    let message;
    try {
      message = JSON.parse(String(event.data));
    } catch {
      return;
    }
    onEvent(message);
  });
  socket.addEventListener('close', (event) => {
    if (state.socket !== socket) return;
    state.socket = null;
    state.socketOpen = false;
    render();
    if (event.code === 4401) {
      showError('unauthenticated');
      return signOut();
    }
    if (event.code === 4403) return showError('forbidden');
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** state.retries++);
    state.reconnectTimer = setTimeout(connectEvents, delay);
  });
}

/** @param {any} message */
function onEvent(message) {
  switch (message?.type) {
    case 'ready':
      state.socketOpen = true;
      state.retries = 0;
      break;
    case 'capture':
      applyView(message.view);
      break;
    case 'call':
      applyCall(message.call);
      break;
    default:
      return;
  }
  render();
}

/** While the socket is down, REST keeps the calls and the shown capture fresh. */
async function poll() {
  if (state.socketOpen && Date.now() - state.lastEventAt > SILENCE_MS) state.socket?.close(4000);
  if (state.socketOpen || !state.token) return;
  try {
    const { calls } = await api('GET', state.roles.includes('agent') ? '/v1/me' : '/v1/calls');
    for (const call of calls) applyCall(call);
    const shown = currentView();
    if (shown && isLive(shown)) applyView((await api('GET', `/v1/captures/${encodeURIComponent(shown.id)}`)).view);
    render();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'unauthenticated') {
      showError('unauthenticated');
      signOut();
    }
  }
}

/** @param {CallRecord} call */
function applyCall(call) {
  if (call.state === 'ended') state.calls.delete(call.callSid);
  else state.calls.set(call.callSid, call);
}

/** Keeps the newest view of each capture; a view no newer than the one held is stale. */
/** @param {CaptureView} view */
function applyView(view) {
  const held = state.views.get(view.id);
  if (held && held.version >= view.version) return;
  state.views.set(view.id, view);
  if (!held) return;
  announceChanges(held, view);
  // Only a capture seen finishing here: the resume state also replays captures finished earlier.
  if (WIDGET && held.state !== 'complete' && view.state === 'complete') reportResult(view);
}

/** @param {CaptureView} view */
function isLive(view) {
  return view.state === 'active' || view.state === 'tokenizing';
}

/** The newest capture of the selected call. */
function currentView() {
  /** @type {CaptureView | undefined} */
  let newest;
  for (const view of state.views.values()) {
    if (view.callSid !== state.selectedCall) continue;
    if (!newest || view.createdAt > newest.createdAt) newest = view;
  }
  return newest;
}

/** @param {CaptureView} before @param {CaptureView} after */
function announceChanges(before, after) {
  if (after.callSid !== state.selectedCall) return;
  if (after.state !== before.state && after.state !== 'active') {
    if (after.error) showError(after.error.code);
    announce(captureSummary(after));
    return;
  }
  for (const field of after.fields) {
    const old = before.fields.find((f) => f.name === field.name);
    if (!old) continue;
    const label = fieldLabel(field.name);
    if (field.valid === true && old.valid !== true) announce(`${label}: complete and well-formed.`);
    else if (field.error && field.error !== old.error) showError(field.error, label);
    else if (field.digitCount !== old.digitCount) announce(`${label}: ${digitsText(field.digitCount)}`);
  }
}

/** @param {number} count */
function digitsText(count) {
  return `${count} ${count === 1 ? 'digit' : 'digits'}`;
}

/** @param {CaptureView} view */
function captureSummary(view) {
  switch (view.state) {
    case 'active':
      return view.currentField ? `Waiting for the caller to key the ${fieldLabel(view.currentField)}.` : 'Capture running.';
    case 'tokenizing':
      return 'All digits received; securing them…';
    case 'complete': {
      const last4 = lastFour(view.result?.last4);
      return `Capture complete${view.result?.brand ? `: ${view.result.brand}` : ''}${last4 ? ` ending ${last4}` : ''}.`;
    }
    case 'cancelled':
      return 'Capture cancelled.';
    default:
      return view.error ? `Capture failed. ${sentence(view.error.code)}` : 'Capture failed.';
  }
}

// ---- the embedding page (widget only) ---------------------------------------------------------

/** @param {unknown} message */
function tellParent(message) {
  if (window.parent === window) return;
  // One message per allowed origin: the browser delivers only the one matching the parent.
  for (const origin of state.settings.embedOrigins) window.parent.postMessage(message, origin);
}

/** @param {CaptureView} view */
function reportResult(view) {
  if (state.reported.has(view.id) || !view.result) return;
  state.reported.add(view.id);
  const { brand, token } = view.result;
  tellParent({ type: 'toneguard.result', captureId: view.id, brand: brand ?? null, last4: lastFour(view.result.last4) || null, token });
}

/** @param {MessageEvent} event */
function onParentMessage(event) {
  if (event.source !== window.parent || !state.settings.embedOrigins.includes(event.origin)) return;
  const data = event.data;
  if (data?.type !== 'toneguard.token' || typeof data.token !== 'string' || data.token.length > 16_384) return;
  signIn(data.token).catch((err) => showError(err instanceof ApiError ? err.code : 'network'));
}

// ---- rendering --------------------------------------------------------------------------------

/** @type {FieldRow[]} */
let rows = [];
/** @type {string | null} */
let rowsFor = null;

function render() {
  const signedIn = state.token !== null;
  signInSection.hidden = signedIn;
  workspace.hidden = !signedIn;
  if (!signedIn) return;
  connectionText.textContent = state.socketOpen ? 'Live' : 'Reconnecting…';
  renderCalls();
  renderCapture(currentView());
}

function renderCalls() {
  const calls = [...state.calls.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  if (!state.selectedCall || !state.calls.has(state.selectedCall)) state.selectedCall = calls[0]?.callSid ?? null;
  callChooser.hidden = calls.length < 2;
  const listed = [...callSelect.options].map((o) => o.value).join();
  if (calls.length >= 2 && listed !== calls.map((c) => c.callSid).join()) {
    callSelect.replaceChildren(...calls.map((c) => h('option', { text: callTitle(c), attrs: { value: c.callSid } })));
  }
  callSelect.value = state.selectedCall ?? '';
  const call = state.selectedCall ? state.calls.get(state.selectedCall) : undefined;
  callText.textContent = call ? `${callTitle(call)} · ${call.state}` : 'No active call.';
  const view = currentView();
  const idle = Boolean(call && call.state === 'bridged' && !(view && isLive(view)));
  captureCardButton.disabled = !idle;
  captureIdButton.disabled = !idle;
}

/** @param {CallRecord} call */
function callTitle(call) {
  return `Call from ${call.from ?? 'unknown number'}`;
}

/** @param {CaptureView | undefined} view */
function renderCapture(view) {
  captureSection.hidden = !view;
  if (!view) return;
  captureStateText.textContent = captureSummary(view);
  if (rowsFor !== view.id) {
    rows = view.fields.map((f) => fieldRow(view.id, f.name));
    rowsFor = view.id;
    fieldList.replaceChildren(...rows.map((r) => r.row));
  }
  for (const row of rows) {
    const field = view.fields.find((f) => f.name === row.name);
    if (field) renderField(row, field, isLive(view) && view.state === 'active');
  }
  const result = view.state === 'complete' ? view.result : null;
  resultBox.hidden = !result;
  resultBrand.textContent = result?.brand ?? '—';
  resultLast4.textContent = result?.last4 ? `•••• ${lastFour(result.last4)}` : '—';
  resultToken.value = result?.token ?? '';
  cancelButton.hidden = !isLive(view);
  cancelButton.disabled = view.state !== 'active';
}

/** @param {string} captureId @param {string} name @returns {FieldRow} */
function fieldRow(captureId, name) {
  const dots = h('span', { className: 'dots', attrs: { role: 'img' } });
  const brand = h('span', { className: 'brand' });
  const check = h('span', { className: 'check' });
  const error = h('span', { className: 'field-error' });
  const reset = button(`Reset ${fieldLabel(name)}`);
  reset.addEventListener('click', () =>
    act(reset, async () => {
      const path = `/v1/captures/${encodeURIComponent(captureId)}/fields/${encodeURIComponent(name)}/reset`;
      applyView((await api('POST', path)).view);
      announce(`${fieldLabel(name)} reset.`);
    }),
  );
  const row = h('li', { className: 'field', attrs: { 'data-field': name } }, [
    h('span', { className: 'label', text: fieldLabel(name) }),
    dots,
    brand,
    check,
    error,
    reset,
  ]);
  return { name, row, dots, brand, check, error, reset };
}

/** @param {FieldRow} row @param {FieldView} field @param {boolean} editable */
function renderField(row, field, editable) {
  const count = Math.max(0, Math.min(MAX_DOTS, field.digitCount | 0));
  if (row.dots.childElementCount !== count) {
    row.dots.replaceChildren(...Array.from({ length: count }, () => h('span', { className: 'dot', text: '•', attrs: { 'aria-hidden': 'true' } })));
  }
  row.dots.setAttribute('aria-label', `${digitsText(count)} entered`);
  row.row.dataset.state = field.state;
  row.brand.textContent = field.brand ?? '';
  row.check.textContent = field.valid === true ? '✓' : '';
  if (field.valid === true) row.check.setAttribute('aria-label', 'well-formed');
  else row.check.removeAttribute('aria-label');
  row.error.textContent = field.error ? sentence(field.error) : '';
  row.reset.hidden = !editable;
}

// ---- agent actions ----------------------------------------------------------------------------

/** @param {HTMLButtonElement} control @param {string[]} fields */
function startCapture(control, fields) {
  return act(control, async () => {
    const callSid = state.selectedCall;
    if (!callSid) return;
    const { view } = await api('POST', `/v1/calls/${encodeURIComponent(callSid)}/captures`, { fields });
    applyView(view);
    announce(captureSummary(view));
  });
}

async function copyToken() {
  const token = resultToken.value;
  if (!token) return;
  try {
    await navigator.clipboard.writeText(token);
  } catch {
    // No clipboard API (an insecure origin or an iframe without permission): copy the selection.
    resultToken.focus();
    resultToken.select();
    if (!document.execCommand('copy')) return announce('Copy failed: the token is selected, press Ctrl+C.');
  }
  announce('Token copied.');
}

pasteForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) return showError('unauthenticated');
  const submit = /** @type {HTMLButtonElement} */ (pasteForm.querySelector('button'));
  act(submit, () => signIn(token));
});

devForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const submit = /** @type {HTMLButtonElement} */ (devForm.querySelector('button'));
  act(submit, async () => {
    try {
      const { token } = await api('POST', '/v1/dev/token', { sub: devSub.value.trim(), role: devRole.value });
      await signIn(token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) devForm.hidden = true;
      throw err;
    }
  });
});

signOutButton.addEventListener('click', () => {
  signOut();
  announce('Signed out.');
});
callSelect.addEventListener('change', () => {
  state.selectedCall = callSelect.value;
  render();
});
captureCardButton.addEventListener('click', () => startCapture(captureCardButton, CAPTURE_FIELDS.card));
captureIdButton.addEventListener('click', () => startCapture(captureIdButton, CAPTURE_FIELDS.id));
cancelButton.addEventListener('click', () =>
  act(cancelButton, async () => {
    const view = currentView();
    if (view) applyView((await api('POST', `/v1/captures/${encodeURIComponent(view.id)}/cancel`)).view);
  }),
);
copyButton.addEventListener('click', () => void copyToken());

// ---- start ------------------------------------------------------------------------------------

async function start() {
  render();
  try {
    const res = await fetch('/desktop/settings.json', { cache: 'no-store' });
    if (res.ok) state.settings = await res.json();
  } catch {
    showError('network');
  }
  devForm.hidden = !state.settings.devTokens;
  if (WIDGET) {
    window.addEventListener('message', onParentMessage);
    tellParent({ type: 'toneguard.ready' });
  }
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) await signIn(saved).catch(() => sessionStorage.removeItem(TOKEN_KEY));
}

void start();
