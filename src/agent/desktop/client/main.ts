/**
 * The Toneguard agent desktop (`/desktop/`) and its embeddable widget (`/desktop/widget`): one
 * script, two layouts. It only ever holds redacted views: digit counts, brand, last four, the
 * token and masking figures. The DOM is built with createElement/textContent, never from HTML strings.
 */
import { SIMULATED_CALLS_PATH, type AgentEvent, type CallView, type CaptureView, type DesktopSettings, type Role } from '../../contract.js';
import { ApiError, createApi, errorCode } from './api.js';
import { CallPanel } from './call-panel.js';
import { CapturePanel } from './capture-panel.js';
import { button, h } from './dom.js';
import { EventsSocket } from './events-socket.js';
import { EvidencePanel } from './evidence-panel.js';
import { MaskingPanel } from './masking-panel.js';
import { SignInPanel } from './signin-panel.js';
import { SimulatorPanel } from './simulator-panel.js';
import { DesktopStore, isLive } from './store.js';
import { WIDGET, WidgetMessaging } from './widget.js';
import { captureSummary, digitsText, fieldLabel, sentence } from './words.js';

const TOKEN_KEY = 'toneguard.token';
/** While the socket is down, REST polls this often. */
const POLL_MS = 2_000;

/** The roles `WS /v1/events` admits (WATCHER_ROLES in src/agent/visibility.ts): only they have calls to watch. */
const watchesCalls = (roles: readonly Role[]) => roles.includes('agent') || roles.includes('supervisor');

interface Me {
  sub: string;
  roles: Role[];
  calls?: CallView[];
}

const session = {
  token: null as string | null,
  sub: null as string | null,
  roles: [] as Role[],
  settings: { devTokens: false, embedOrigins: [] } as DesktopSettings,
  pollTimer: undefined as ReturnType<typeof setInterval> | undefined,
};
const store = new DesktopStore();
const api = createApi(() => session.token);
const widget = new WidgetMessaging(() => session.settings.embedOrigins);
const socket = new EventsSocket({
  event: onEvent,
  changed: render,
  refused(reason) {
    showError(reason);
    if (reason === 'unauthenticated') signOut();
  },
});

// ---- the DOM --------------------------------------------------------------------------------

const app = document.getElementById('app') as HTMLElement;
if (WIDGET) {
  document.body.classList.replace('layout-desktop', 'layout-widget');
  document.title = 'Toneguard capture';
  (document.getElementById('app-title') as HTMLElement).textContent = 'Toneguard capture';
}

const statusRegion = h('p', { className: 'status', attrs: { 'aria-live': 'polite', 'aria-atomic': 'true' } });
const alertBox = h('p', { className: 'alert', attrs: { role: 'alert' } });

const signIn = new SignInPanel({
  paste(token, submit) {
    if (!token) return showError('unauthenticated');
    void act(submit, () => signInWith(token));
  },
  dev(sub, role, submit) {
    void act(submit, async () => {
      try {
        const { token } = await api<{ token: string }>('POST', '/v1/dev/token', { sub, role });
        await signInWith(token);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) signIn.offerDevTokens(false);
        throw err;
      }
    });
  },
});

const whoText = h('span', { className: 'who' });
const connectionText = h('span', { className: 'connection' });
const signOutButton = button('Sign out');
const sessionBar = h('div', { className: 'session' }, [whoText, connectionText, signOutButton]);
signOutButton.addEventListener('click', () => {
  signOut();
  announce('Signed out.');
});

const callPanel = new CallPanel({
  select(callSid) {
    store.selectedCall = callSid;
    render();
  },
  startCapture: (control, fields) => void startCapture(control, fields),
});
const capturePanel = new CapturePanel({
  reset: (control, captureId, name) =>
    act(control, async () => {
      const path = `/v1/captures/${encodeURIComponent(captureId)}/fields/${encodeURIComponent(name)}/reset`;
      applyView((await api<{ view: CaptureView }>('POST', path)).view);
      announce(`${fieldLabel(name)} reset.`);
    }),
  cancel: (control) =>
    act(control, async () => {
      const view = store.currentView();
      if (view) applyView((await api<{ view: CaptureView }>('POST', `/v1/captures/${encodeURIComponent(view.id)}/cancel`)).view);
    }),
  copy: (token, input) => void copyToken(token, input),
});
const simulatorPanel = new SimulatorPanel((control) => void simulateCaller(control));
const maskingPanel = new MaskingPanel();
const evidencePanel = new EvidencePanel(api);
const note = h('p', { className: 'note', text: 'A ✓ means the number is well-formed, not that the payment is authorised.' });
const callParts = [connectionText, simulatorPanel.section, callPanel.section, capturePanel.section, maskingPanel.section, note];
const workspace = h('div', { className: 'workspace' }, [sessionBar, simulatorPanel.section, callPanel.section, capturePanel.section, maskingPanel.section, evidencePanel.section, note]);

app.append(alertBox, statusRegion, signIn.section, workspace);

// ---- messages to the agent --------------------------------------------------------------------

function announce(text: string): void {
  statusRegion.textContent = text;
}

/** `field`: the field it concerns, if any. */
function showError(code: string, field?: string): void {
  alertBox.textContent = field ? `${field}: ${sentence(code)}` : sentence(code);
}

function clearError(): void {
  alertBox.textContent = '';
}

/** Runs an agent action with its button disabled, turning failures into readable errors. */
async function act(control: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  control.disabled = true;
  clearError();
  try {
    await action();
  } catch (err) {
    const code = errorCode(err);
    showError(code);
    if (code === 'unauthenticated') signOut();
  } finally {
    control.disabled = false;
    render();
  }
}

// ---- signing in and out -----------------------------------------------------------------------

async function signInWith(token: string): Promise<void> {
  session.token = token;
  const me = await api<Me>('GET', '/v1/me').catch((err: unknown) => {
    session.token = null;
    throw err;
  });
  session.sub = me.sub;
  session.roles = me.roles;
  whoText.textContent = `Signed in as ${me.sub} (${me.roles.join(', ') || 'no role'})`;
  sessionStorage.setItem(TOKEN_KEY, token);
  signIn.signedIn();
  for (const call of me.calls ?? []) store.applyCall(call);
  announce(`Signed in as ${me.sub}.`);
  clearInterval(session.pollTimer);
  if (watchesCalls(me.roles)) {
    socket.connect(token);
    session.pollTimer = setInterval(() => void poll(), POLL_MS);
  }
  if (EvidencePanel.shownTo(me.roles)) void evidencePanel.load();
  render();
}

function signOut(): void {
  session.token = null;
  session.sub = null;
  session.roles = [];
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(session.pollTimer);
  socket.drop();
  store.clear();
  evidencePanel.clear();
  render();
}

// ---- live state: the events socket, with polling while it is down ------------------------------

function onEvent(event: AgentEvent): void {
  switch (event?.type) {
    case 'ready':
      break;
    case 'capture':
      applyView(event.view);
      break;
    case 'call':
      store.applyCall(event.call);
      break;
    default:
      return;
  }
  render();
}

/** While the socket is down, REST keeps the calls and the shown capture fresh. */
async function poll(): Promise<void> {
  socket.checkSilence();
  if (socket.open || !session.token) return;
  try {
    const { calls } = await api<{ calls: CallView[] }>('GET', session.roles.includes('agent') ? '/v1/me' : '/v1/calls');
    for (const call of calls) store.applyCall(call);
    const shown = store.currentView();
    if (shown && isLive(shown)) applyView((await api<{ view: CaptureView }>('GET', `/v1/captures/${encodeURIComponent(shown.id)}`)).view);
    render();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'unauthenticated') {
      showError('unauthenticated');
      signOut();
    }
  }
}

function applyView(view: CaptureView): void {
  const applied = store.applyView(view);
  const held = applied?.previous;
  if (!held) return;
  announceChanges(held, view);
  // Only a capture seen finishing here: the resume state also replays captures finished earlier.
  if (WIDGET && held.state !== 'complete' && view.state === 'complete') widget.reportResult(view);
}

function announceChanges(before: CaptureView, after: CaptureView): void {
  if (after.callSid !== store.selectedCall) return;
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

// ---- rendering --------------------------------------------------------------------------------

function render(): void {
  const signedIn = session.token !== null;
  signIn.section.hidden = signedIn;
  workspace.hidden = !signedIn;
  if (!signedIn) return;
  evidencePanel.render(session.roles);
  const watching = watchesCalls(session.roles);
  for (const part of callParts) part.hidden = !watching;
  if (!watching) return;
  connectionText.textContent = socket.open ? 'Live' : 'Reconnecting…';
  simulatorPanel.render(session.settings, session.sub);
  callPanel.render(store);
  capturePanel.render(store.currentView());
  maskingPanel.render(store.selected());
}

// ---- agent actions ----------------------------------------------------------------------------

function startCapture(control: HTMLButtonElement, fields: string[]): Promise<void> {
  return act(control, async () => {
    const callSid = store.selectedCall;
    if (!callSid) return;
    const { view } = await api<{ view: CaptureView }>('POST', `/v1/calls/${encodeURIComponent(callSid)}/captures`, { fields });
    applyView(view);
    announce(captureSummary(view));
  });
}

function simulateCaller(control: HTMLButtonElement): Promise<void> {
  return act(control, async () => {
    const { callSid } = await api<{ callSid: string }>('POST', SIMULATED_CALLS_PATH);
    store.selectedCall = callSid;
    announce('A simulated caller is on the line; the capture starts once you have talked.');
  });
}

async function copyToken(token: string, input: HTMLInputElement): Promise<void> {
  if (!token) return;
  try {
    await navigator.clipboard.writeText(token);
  } catch {
    // No clipboard API (an insecure origin or an iframe without permission): copy the selection.
    input.focus();
    input.select();
    if (!document.execCommand('copy')) return announce('Copy failed: the token is selected, press Ctrl+C.');
  }
  announce('Token copied.');
}

// ---- start ------------------------------------------------------------------------------------

async function start(): Promise<void> {
  render();
  try {
    const res = await fetch('/desktop/settings.json', { cache: 'no-store' });
    if (res.ok) session.settings = (await res.json()) as DesktopSettings;
  } catch {
    showError('network');
  }
  // The demo's simulated calls ring one agent: offer that identity for the development sign-in.
  signIn.offerDevTokens(session.settings.devTokens, session.settings.simulator?.agentId);
  if (WIDGET) widget.start((token) => signInWith(token).catch((err: unknown) => showError(errorCode(err))));
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) await signInWith(saved).catch(() => sessionStorage.removeItem(TOKEN_KEY));
}

void start();
